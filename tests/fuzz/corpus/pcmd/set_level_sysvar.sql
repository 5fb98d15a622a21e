SET @@session.gtidproxy_consistency = "strong" -- c
