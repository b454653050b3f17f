"""References: fields that read as awaitables, and loading referenced documents in batches.

    from mongomotor.odm.references.fields import ReferenceField
"""
