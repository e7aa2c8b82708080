"""Redis building blocks for the scale-out mode (any number of processes sharing one
Redis or a Redis Cluster). Each block is a small async class over one `RedisClient`;
every operation raises `StoreUnavailable` when Redis does not answer in time.

- `RedisStore` (store.py): the `Store` protocol; `MatchRecords` (matches.py) underneath.
- `MatchFeed`, `Inbox` (feed.py): sharded pub/sub of committed patches and of notices
  to players, per process, on a single server or a Cluster.
- `Queues` (queues.py), `Rooms` (rooms.py): matchmaking shared by every process.
- `Subscriber` (subscriber.py): one reconnecting sharded pub/sub connection.
- `Deadlines` (deadlines.py), `Presence` (presence.py), `Watchers` and `BotLeases`
  (leases.py), `RedisClock` (clock.py).

Keys (keys.py) are laid out for Redis Cluster: a match's record, history, channel,
watcher counts and bot leases share the match's `{tag}` (its id up to the first `.`);
a rematch gets `rematch_id(old)`, same tag, so the agreeing offer and the new match are
one atomic script. Queues share `{lobby}`; presence and deadlines use tagged buckets.
"""

from game.store.redis.client import RedisClient, RedisOptions
from game.store.redis.clock import RedisClock
from game.store.redis.deadlines import Deadlines
from game.store.redis.errors import CrossSlotCommit, StoreUnavailable
from game.store.redis.feed import Fanout, Inbox, MatchFeed
from game.store.redis.keys import Keys, match_tag, rematch_id
from game.store.redis.leases import BotLease, BotLeases, Watchers
from game.store.redis.matches import MatchRecords, Patches, Write
from game.store.redis.presence import Presence
from game.store.redis.queues import Enqueued, Queues
from game.store.redis.rooms import Rooms
from game.store.redis.store import RedisStore
from game.store.redis.subscriber import FeedSettings, Subscriber

__all__ = [
    "BotLease", "BotLeases", "CrossSlotCommit", "Deadlines", "Enqueued", "Fanout",
    "FeedSettings", "Inbox", "Keys", "MatchFeed",
    "MatchRecords", "Patches", "Presence", "Queues", "RedisClient", "RedisClock",
    "RedisOptions", "RedisStore", "Rooms", "StoreUnavailable", "Subscriber", "Watchers", "Write",
    "match_tag", "rematch_id",
]
