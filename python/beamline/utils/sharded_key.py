"""``ShardedKey``: a user key and an opaque shard id (what
``GroupIntoBatches.WithShardedKey`` keys its batches by)."""

__all__ = ["ShardedKey"]


class ShardedKey:
    """A user key with a shard id (bytes)."""

    def __init__(self, key, shard_id):
        assert shard_id is not None
        self._key = key
        self._shard_id = shard_id

    @property
    def key(self):
        return self._key

    def __repr__(self):
        return "(%s, %s)" % (repr(self.key), self._shard_id)

    def __eq__(self, other):
        return type(self) == type(other) and self.key == other.key and self._shard_id == other._shard_id

    def __hash__(self):
        return hash((self.key, self._shard_id))

    def __reduce__(self):
        return ShardedKey, (self.key, self._shard_id)
