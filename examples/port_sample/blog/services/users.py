"""Users: register, find, rename."""

from __future__ import annotations

from mongoengine.errors import DoesNotExist

from blog.models import User


def register(name: str, email: str) -> User:
    return User(name=name, email=email).save()


def register_quietly(name: str, email: str) -> User:
    return User.objects.create(name=name, email=email)


def find(name: str) -> User:
    return User.objects.get(name=name)


def find_or_none(name: str) -> User | None:
    try:
        return find(name)
    except DoesNotExist:
        return None


def rename(old: str, new: str) -> User:
    user = find(old)
    user.name = new
    user.save()
    return user


def most_karma() -> User | None:
    return User.objects.order_by("-karma", "name").first()
