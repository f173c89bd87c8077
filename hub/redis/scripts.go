package redis

import goredis "github.com/redis/go-redis/v9"

// Redis keys of a topic T, with prefix P (hash-tagged, so that a topic's
// keys share a Redis Cluster slot):
//
//	P{T}:m   hash: e = the epoch, o = the last offset
//	P{T}:s   stream: the history, entry IDs 0-OFFSET, fields t (type), d (data)
//	P{T}:p   hash: node ID -> that node's subscribers of T
//	Pc:T     the pub/sub channel
//	Pn:NODE  a node's liveness key, with a TTL
//
// Offsets come from HINCRBY in the same script as the XADD and the
// PUBLISH: Redis runs a script alone, so offset order, history order and
// pub/sub order are one.

// publishScript: KEYS meta, stream; ARGV data, type, history size, TTL
// seconds, new epoch, channel. Returns {epoch, offset}.
var publishScript = goredis.NewScript(`
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('del', KEYS[2])
  redis.call('hset', KEYS[1], 'e', epoch)
end
local off = redis.call('hincrby', KEYS[1], 'o', 1)
local size = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
if size > 0 then
  redis.call('xadd', KEYS[2], 'MAXLEN', size, '0-' .. off, 't', ARGV[2], 'd', ARGV[1])
  if ttl > 0 then redis.call('expire', KEYS[2], ttl) end
end
if ttl > 0 then redis.call('expire', KEYS[1], ttl) end
redis.call('publish', ARGV[6], 'w1 ' .. epoch .. ' ' .. off .. ' ' .. ARGV[2] .. '\n' .. ARGV[1])
return {epoch, tostring(off)}
`)

// historyScript: KEYS meta, stream; ARGV since epoch, since offset, count.
// Returns {epoch or ”, last offset or '0', entries}.
var historyScript = goredis.NewScript(`
local epoch = redis.call('hget', KEYS[1], 'e')
if not epoch then return {'', '0', {}} end
local off = redis.call('hget', KEYS[1], 'o') or '0'
local from = '-'
if ARGV[1] == epoch then from = '(0-' .. ARGV[2] end
return {epoch, off, redis.call('xrange', KEYS[2], from, '+', 'COUNT', ARGV[3])}
`)
