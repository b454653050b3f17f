// Command ferretdb starts FerretDB through its embeddable package, for mongomotor's test lanes.
//
//	go build -o ferretdb . && ./ferretdb --listen-addr=127.0.0.1:27017 --handler=sqlite --sqlite-url=file:data/
//
// FerretDB's own command, built with `go install .../cmd/ferretdb@v1.24.2`, stops at start:
// the module archive has no build/version/version.txt, which that command requires when it is
// the main module. As a package of another module, FerretDB skips that check, so this launcher
// builds from the module archive alone. It takes the stock command's flags the tests need and
// accepts (and ignores) a few more, so one command line serves either binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

const ferretModule = "github.com/FerretDB/FerretDB"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	listenAddr := flags.String("listen-addr", "127.0.0.1:27017", "listen TCP address")
	listenUnix := flags.String("listen-unix", "", "listen Unix domain socket path")
	handler := flags.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flags.String("sqlite-url", "file:data/", "SQLite URI (a directory) for the sqlite handler")
	postgresqlURL := flags.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler")
	logLevel := flags.String("log-level", "info", "debug, info, warn or error")
	printVersion := flags.Bool("version", false, "print FerretDB's version and exit")
	// The embedded server has no telemetry, state directory or debug listener.
	for _, ignored := range []string{"telemetry", "state-dir", "debug-addr", "mode"} {
		flags.String(ignored, "", "accepted for the stock command's sake; ignored")
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *printVersion {
		fmt.Println(ferretVersion())
		return nil
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr, Unix: *listenUnix},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresqlURL,
	})
	if err != nil {
		return err
	}
	// buildInfo then names the release (the embedded package leaves it "unknown").
	version.Get().Version = ferretVersion()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("listening", "addr", *listenAddr, "handler", *handler)
	return server.Run(ctx)
}

// ferretVersion is the version of the FerretDB module this binary was built with.
func ferretVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == ferretModule {
				return dep.Version
			}
		}
	}
	return "unknown"
}
