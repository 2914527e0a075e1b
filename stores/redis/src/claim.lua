if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 'claimed'
end
if redis.call('GET', KEYS[1]) == 'done' then
  return 'done'
end
return 'in_progress'
