"""Loading references: MongoEngine's ``DeReference``, batched (the 0.17 API's module name).

    posts = await Post.objects.select_related()
"""

from mongomotor.odm.references.dereference import MongoMotorDeReference, select_related
from mongomotor.runtime.naming import publish

__all__ = ["MongoMotorDeReference", "select_related"]

publish(__name__, MongoMotorDeReference)
