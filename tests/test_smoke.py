from mongomotor import Document
from mongomotor.fields import IntField, StringField


class Item(Document):
    name = StringField(required=True)
    n = IntField()


async def test_save_and_read_back(lane):
    item = await Item(name="a", n=1).save()
    again = await Item.objects.get(id=item.id)
    assert (again.name, again.n) == ("a", 1)
    assert await Item.objects.count() == 1
