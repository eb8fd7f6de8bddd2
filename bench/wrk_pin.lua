-- wrk_pin.lua: POST one real pin record per request to /pin/ (FastAPI shape).
-- usage: wrk -t2 -c64 -d10s -s bench/wrk_pin.lua http://127.0.0.1:8080
wrk.method = "POST"
wrk.path = "/pin/"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"index": 7528, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", ' ..
  '"title": "No Title Data Available", "description": "No description available Story format", ' ..
  '"poster_name": "User Info Error", "follower_count": "User Info Error", ' ..
  '"tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "is_image_or_video": "multi-video(story page format)", ' ..
  '"image_src": "Image src error.", "downloaded": 0, "save_location": "Local save in /data/mens-fashion", ' ..
  '"category": "mens-fashion"}'
-- No response() hook on purpose: it costs wrk a Lua call per response; wrk itself
-- prints "Non-2xx or 3xx responses: N" when any request fails.
