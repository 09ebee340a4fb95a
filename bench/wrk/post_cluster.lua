-- POST /api/v1/clusters with a valid body (bench/writes.py); names may repeat.
-- The token comes from the command line: wrk -H "Authorization: Bearer ..." -s post_cluster.lua
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"name": "Souss Massa Agrifood Cluster", "country": "MA", "kind": "cluster",
"acronym": "SMAC", "city": "Agadir", "sectors": ["Agrifood", "Logistics"], "founded": 2016,
"website": "https://agrifood.example.org", "description": "Registered by the write benchmark.",
"members_count": 42}]]
