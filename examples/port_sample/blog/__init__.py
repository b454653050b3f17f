"""A small blog on MongoEngine: the sample the port tool is proven on."""
