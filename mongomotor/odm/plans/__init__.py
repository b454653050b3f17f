"""Compiled plans: per-class code proven equal to MongoEngine's, each with equivalence tests.

    from mongomotor.odm.plans import loader, encoder, reads
"""
