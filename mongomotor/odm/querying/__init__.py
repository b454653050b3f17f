"""Querying: the awaitable QuerySet, its async cursor, and change streams.

    from mongomotor.odm.querying.queryset import QuerySet
"""
