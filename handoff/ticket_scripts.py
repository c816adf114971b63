"""Lua scripts of the ticket store: each is one atomic change, safe with several service processes.

Keys are described in `ticket_store`. Missing hash fields arrive in Lua as `false`.
"""

# Lua. ARGV[1] is always the key prefix, so scripts can reach per-ticket keys by id.
_LUA_APPEND = """
local function append_messages(prefix, id, first, count)
  local seen = prefix .. 'seen:' .. id
  local transcript = prefix .. 'transcript:' .. id
  local added = 0
  for i = 0, count - 1 do
    if redis.call('SADD', seen, ARGV[first + 2 * i]) == 1 then
      redis.call('RPUSH', transcript, ARGV[first + 2 * i + 1])
      added = added + 1
    end
  end
  return added
end
"""

# KEYS: open, seq, queue, status:waiting, sender, metrics, contact... (rest)
# ARGV: prefix, date, now, base_priority, repeat_cutoff, sender_ttl, contact_ttl, reason,
#       n_fields, field/value pairs, n_messages, key/json pairs, creation key, creation json
CREATE_SCRIPT = (
    _LUA_APPEND
    + """
local prefix, date, now = ARGV[1], ARGV[2], ARGV[3]
local nfields = tonumber(ARGV[9])
local msg_count_at = 10 + 2 * nfields
local nmsgs = tonumber(ARGV[msg_count_at])
local creation_at = msg_count_at + 1 + 2 * nmsgs

local existing = redis.call('GET', KEYS[1])
if existing then
  local status = redis.call('HGET', prefix .. 'ticket:' .. existing, 'status')
  if status == 'waiting' or status == 'claimed' then
    local added = append_messages(prefix, existing, msg_count_at + 1, nmsgs)
    return {existing, 0, added, status}
  end
end

local seq = redis.call('INCR', KEYS[2])
if seq == 1 then redis.call('EXPIRE', KEYS[2], 3 * 86400) end
local id = string.format('KN-%s-%04d', date, seq)

local cutoff = ARGV[5]
local repeated = 0
for i = 5, #KEYS do
  if i ~= 6 and redis.call('ZCOUNT', KEYS[i], cutoff, '+inf') > 0 then repeated = 1 end
end
local priority = tonumber(ARGV[4]) + repeated
local score = string.format('%.6f', -priority * 1e10 + tonumber(now))

local ticket = prefix .. 'ticket:' .. id
for i = 0, nfields - 1 do
  redis.call('HSET', ticket, ARGV[10 + 2 * i], ARGV[11 + 2 * i])
end
redis.call('HSET', ticket, 'id', id, 'status', 'waiting', 'priority', priority, 'created_at', now,
  'queue_score', score)
redis.call('ZADD', KEYS[3], score, id)
redis.call('ZADD', KEYS[4], now, id)
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[5], now, id)
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[6]))
for i = 7, #KEYS do
  redis.call('ZADD', KEYS[i], now, id)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[7]))
end
redis.call('HINCRBY', KEYS[6], 'handoffs:' .. ARGV[8], 1)
local added = append_messages(prefix, id, msg_count_at + 1, nmsgs)
added = added + append_messages(prefix, id, creation_at, 1)
return {id, 1, added, 'waiting'}
"""
)

# KEYS: open. ARGV: prefix, timestamp, dedup key, message json
APPEND_CUSTOMER_SCRIPT = (
    _LUA_APPEND
    + """
local prefix = ARGV[1]
local id = redis.call('GET', KEYS[1])
if not id then return {'', 'no_ticket'} end
local ticket = prefix .. 'ticket:' .. id
local fields = redis.call('HMGET', ticket, 'status', 'created_at')
if fields[1] ~= 'waiting' and fields[1] ~= 'claimed' then return {id, 'no_ticket'} end
if tonumber(ARGV[2]) < tonumber(fields[2]) then return {id, 'before_handoff'} end
if append_messages(prefix, id, 3, 1) == 1 then return {id, 'appended'} end
return {id, 'duplicate'}
"""
)

# Shared by CLAIM_SCRIPT and REASSIGN_SCRIPT (KEYS: ticket, queue, leases, status:waiting, status:claimed,
# transcript; ARGV[1] prefix, ARGV[2] id). `state`: the ticket's status (nil: no ticket) and owner. `full`:
# the agent's load when it has reached `capacity` (0: no limit), read from the whole claimed index in the
# same script as the claim, so two claims at once cannot both pass the check (a few hundred claimed tickets
# at most). `take`: the ticket becomes the agent's. `take_if_room`: `take` unless the agent is full, then
# the script's answer {'full', load}.
_LUA_TAKE = """
local function state()
  local fields = redis.call('HMGET', KEYS[1], 'status', 'claimed_by')
  return fields[1], fields[2]
end
local function full(agent, capacity)
  if capacity <= 0 then return nil end
  local load = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
    if redis.call('HGET', ARGV[1] .. 'ticket:' .. id, 'claimed_by') == agent then load = load + 1 end
  end
  if load >= capacity then return load end
  return nil
end
local function take(status, agent, now, lease_until, message)
  redis.call('HSET', KEYS[1], 'status', 'claimed', 'claimed_by', agent, 'claimed_at', now,
    'lease_until', lease_until)
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[3], lease_until, ARGV[2])
  if status == 'waiting' then
    local created = redis.call('ZSCORE', KEYS[4], ARGV[2])
    redis.call('ZREM', KEYS[4], ARGV[2])
    redis.call('ZADD', KEYS[5], created or now, ARGV[2])
  end
  redis.call('RPUSH', KEYS[6], message)
end
local function take_if_room(status, agent, capacity, now, lease_until, message)
  local load = full(agent, capacity)
  if load then return {'full', tostring(load)} end
  take(status, agent, now, lease_until, message)
  return nil
end
"""

# KEYS: ticket, queue, leases, status:waiting, status:claimed, transcript
# ARGV: prefix, id, agent, now, lease_until, mode (claim|heartbeat), system message json,
#       capacity (open tickets the agent may hold; 0: no limit)
CLAIM_SCRIPT = (
    _LUA_TAKE
    + """
local status, owner = state()
if not status then return {'not_found', ''} end
if status == 'claimed' then
  if owner ~= ARGV[3] then return {'taken', owner or ''} end
  redis.call('HSET', KEYS[1], 'lease_until', ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
  return {'renewed', owner}
end
if status ~= 'waiting' then return {'finished', status} end
if ARGV[6] == 'heartbeat' then return {'not_claimed', status} end
local refused = take_if_room(status, ARGV[3], tonumber(ARGV[8] or '0'), ARGV[4], ARGV[5], ARGV[7])
if refused then return refused end
return {'claimed', ARGV[3]}
"""
)

# KEYS: as CLAIM_SCRIPT. ARGV: prefix, id, target agent, now, lease_until, capacity of the target (0: no
# limit), system message json
REASSIGN_SCRIPT = (
    _LUA_TAKE
    + """
local status, owner = state()
if not status then return {'not_found', ''} end
if status ~= 'waiting' and status ~= 'claimed' then return {'finished', status} end
if status == 'claimed' and owner == ARGV[3] then return {'same', owner} end
local refused = take_if_room(status, ARGV[3], tonumber(ARGV[6]), ARGV[4], ARGV[5], ARGV[7])
if refused then return refused end
return {'reassigned', owner or ''}
"""
)

# KEYS: ticket, transcript, leases, metrics. ARGV: prefix, id, agent, now, lease_until, message json
AGENT_MESSAGE_SCRIPT = """
local fields = redis.call('HMGET', KEYS[1], 'status', 'claimed_by', 'first_response_at', 'created_at')
if not fields[1] then return 'not_found' end
redis.call('RPUSH', KEYS[2], ARGV[6])
if not fields[3] then
  redis.call('HSET', KEYS[1], 'first_response_at', ARGV[4])
  redis.call('HINCRBY', KEYS[4], 'first_response_count', 1)
  redis.call('HINCRBYFLOAT', KEYS[4], 'first_response_sum', tonumber(ARGV[4]) - tonumber(fields[4]))
end
if fields[1] == 'claimed' and fields[2] == ARGV[3] then
  redis.call('HSET', KEYS[1], 'lease_until', ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
end
return 'ok'
"""

# KEYS: ticket, queue, leases, status:waiting, status:claimed, status:target, transcript, seen, metrics
# ARGV: prefix, id, agent, now, target status, ttl seconds, system message json, check_only
FINISH_SCRIPT = """
local prefix, id, agent, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'status', 'claimed_by', 'sender_id', 'created_at',
  'first_response_at', 'first_response_due', 'resolution_due')
local status = f[1]
if not status then return {'not_found', ''} end
if status == 'claimed' and f[2] ~= agent then return {'taken', f[2]} end
if status ~= 'waiting' and status ~= 'claimed' then return {'finished', status} end
if ARGV[8] == '1' then return {'allowed', status} end
local target = ARGV[5]
local stamp = (target == 'resolved') and 'resolved_at' or 'closed_at'
redis.call('HSET', KEYS[1], 'status', target, stamp, ARGV[4])
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
redis.call('ZREM', KEYS[5], id)
redis.call('ZADD', KEYS[6], f[4], id)
local open = prefix .. 'open:' .. f[3]
if redis.call('GET', open) == id then redis.call('DEL', open) end
redis.call('RPUSH', KEYS[7], ARGV[7])
if target == 'resolved' then
  redis.call('HINCRBY', KEYS[9], 'resolution_count', 1)
  redis.call('HINCRBYFLOAT', KEYS[9], 'resolution_sum', now - tonumber(f[4]))
end
local first = tonumber(f[5] or ARGV[4])
if first > tonumber(f[6]) then redis.call('HINCRBY', KEYS[9], 'breached_first_response', 1) end
if now > tonumber(f[7]) then redis.call('HINCRBY', KEYS[9], 'breached_resolution', 1) end
local ttl = tonumber(ARGV[6])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[7], ttl)
redis.call('EXPIRE', KEYS[8], ttl)
return {target, status}
"""

# KEYS: ticket, status:resolved, status:closed, transcript, seen, metrics
# ARGV: prefix, id, now, rating, comment, ttl, system message json
CSAT_SCRIPT = """
local f = redis.call('HMGET', KEYS[1], 'status', 'created_at')
if not f[1] then return {'not_found', ''} end
if f[1] ~= 'resolved' then return {'conflict', f[1]} end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[3], 'csat_rating', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'csat_comment', ARGV[5]) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], f[2], ARGV[2])
redis.call('RPUSH', KEYS[4], ARGV[7])
redis.call('HINCRBY', KEYS[6], 'csat_count', 1)
redis.call('HINCRBY', KEYS[6], 'csat_sum', tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[6], 'csat:' .. ARGV[4], 1)
local ttl = tonumber(ARGV[6])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[4], ttl)
redis.call('EXPIRE', KEYS[5], ttl)
return {'closed', 'resolved'}
"""

# KEYS: ticket, queue, leases, status:claimed, status:waiting, transcript
# ARGV: prefix, id, now, system message json (with %s for the agent's name)
REQUEUE_SCRIPT = """
local f = redis.call('HMGET', KEYS[1], 'status', 'lease_until', 'queue_score', 'created_at', 'claimed_by')
if f[1] ~= 'claimed' then
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 0
end
if tonumber(f[2] or '0') > tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[3], f[2], ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'waiting')
redis.call('HDEL', KEYS[1], 'claimed_by', 'claimed_at', 'lease_until')
redis.call('ZADD', KEYS[2], f[3], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[5], f[4], ARGV[2])
redis.call('RPUSH', KEYS[6], (string.gsub(ARGV[4], '%%s', f[5] or '?')))
return 1
"""

# KEYS: sender, open. ARGV: prefix
DELETE_CUSTOMER_SCRIPT = """
local prefix = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local open = redis.call('GET', KEYS[2])
if open then
  local found = false
  for _, id in ipairs(ids) do if id == open then found = true end end
  if not found then table.insert(ids, open) end
end
for _, id in ipairs(ids) do
  local ticket = prefix .. 'ticket:' .. id
  local contacts = redis.call('HGET', ticket, 'contacts')
  if contacts then
    for _, digest in ipairs(cjson.decode(contacts)) do
      redis.call('ZREM', prefix .. 'contact:' .. digest, id)
    end
  end
  redis.call('DEL', ticket, prefix .. 'transcript:' .. id, prefix .. 'seen:' .. id)
  redis.call('ZREM', prefix .. 'queue', id)
  redis.call('ZREM', prefix .. 'leases', id)
  for _, status in ipairs({'waiting', 'claimed', 'resolved', 'closed'}) do
    redis.call('ZREM', prefix .. 'status:' .. status, id)
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
return ids
"""
