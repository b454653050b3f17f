"""GridFS: the awaitable file API and the file fields built on it.

    from mongomotor.odm.files.gridfs import GridFS
"""
