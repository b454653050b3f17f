"""``python -m bench``: mongomotor vs raw PyMongo async vs sync MongoEngine on one server."""
