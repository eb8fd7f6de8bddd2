#!/usr/bin/python3
"""fastapi_kafka.py: the seeds' ingestion stack for bench/kafka_serve.sh: a FastAPI app whose
POST /pin/ validates the record with pydantic and produces it to Kafka with kafka-python
(acks='all'), served by uvicorn (one worker), as the seeds' user_posting_emulation API does.

  /usr/bin/python3 bench/fastapi_kafka.py --brokers HOST:PORT,... [--port 18082] [--no-wait]

By default a request is answered after the broker acknowledged its record (send().get()), which
is what pinpipe serve guarantees; --no-wait answers right after send() (fire and forget, as the
seeds literally do: an answer then says nothing about durability).
Needs Debian's python3-fastapi, python3-uvicorn, python3-kafka.
"""
import argparse
import json

import uvicorn
from fastapi import FastAPI
from kafka import KafkaProducer
from pydantic import BaseModel

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--port", type=int, default=18082)
ap.add_argument("--no-wait", action="store_true")
args = ap.parse_args()

producer = KafkaProducer(bootstrap_servers=args.brokers.split(","), client_id="seeds-fastapi",
                         acks="all", value_serializer=lambda m: json.dumps(m).encode("utf-8"),
                         key_serializer=lambda k: str(k).encode("ascii"))
app = FastAPI()


class Pin(BaseModel):
    index: int
    unique_id: str
    title: str
    description: str
    poster_name: str
    follower_count: str
    tag_list: str
    is_image_or_video: str
    image_src: str
    downloaded: int
    save_location: str
    category: str


@app.post("/pin/")
def post_pin(item: Pin):
    data = dict(item)
    future = producer.send("pin", key=data["index"], value=data)
    if not args.no_wait:
        future.get(timeout=30)
    return item


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
