"""Another system listening to Booster Track's events: its own queue on ``booster.events``.

Every event is published to the durable topic exchange ``booster.events`` with its type
as routing key (``registry.person.registered``, ``mentoring.pair.matched``, ...) and a
CloudEvents 1.0 JSON body. A subscriber declares a durable queue of its own, binds it
with the patterns it wants (``*`` one word, ``#`` any number) and acknowledges each
message once it has handled it. The queue keeps events while the subscriber is down.
Delivery is at least once: remember the ``id`` of handled events to skip a redelivery.

    pip install pika        # any AMQP 0-9-1 client will do; nothing from this repository
    python examples/subscriber.py --queue acme.booster --bind 'registry.#' --bind 'mentoring.pair.*'

It prints one JSON line per event on stdout. ``--count N`` stops after N events.
Delete the queue when the system stops listening for good, or it keeps filling up
(``rabbitmqctl delete_queue acme.booster`` or the management UI).
"""

from __future__ import annotations

import argparse
import json
import sys

import pika

REQUIRED = ("specversion", "id", "source", "type", "time", "data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print Booster Track events as JSON lines.")
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--exchange", default="booster.events")
    parser.add_argument("--queue", required=True, help="your queue, e.g. acme.booster")
    parser.add_argument("--bind", action="append", default=[], help="pattern, e.g. 'events.#'")
    parser.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    args = parser.parse_args(argv)

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    # the same declaration as the platform's (idempotent): works whichever starts first
    channel.exchange_declare(args.exchange, exchange_type="topic", durable=True)
    # a quorum queue survives a broker restart and replicates in a cluster
    channel.queue_declare(args.queue, durable=True, arguments={"x-queue-type": "quorum"})
    for pattern in args.bind or ["#"]:
        channel.queue_bind(args.queue, args.exchange, routing_key=pattern)
    channel.basic_qos(prefetch_count=50)
    print(f"listening on {args.queue} ({', '.join(args.bind or ['#'])})", file=sys.stderr)
    sys.stderr.flush()

    seen = 0
    try:
        for method, _properties, body in channel.consume(args.queue):
            event = json.loads(body)
            missing = [name for name in REQUIRED if name not in event]
            if missing:  # not a CloudEvent: set it aside rather than loop on it
                print(f"not a CloudEvent (no {missing}): {body[:200]!r}", file=sys.stderr)
                channel.basic_nack(method.delivery_tag, requeue=False)
                continue
            print(json.dumps(event, ensure_ascii=False), flush=True)  # handle it here
            channel.basic_ack(method.delivery_tag)
            seen += 1
            if args.count and seen >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        channel.cancel()
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
