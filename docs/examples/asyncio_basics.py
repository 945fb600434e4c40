"""asyncio: AsyncRSMQ has the same operations as RSMQ, as coroutines.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/asyncio_basics.py
"""

import asyncio
import os

from django_rsmq.engine import AsyncRSMQ


async def worker(mq: AsyncRSMQ, name: str, done: list[str]) -> None:
    while (msg := await mq.receive("tasks", wait=0.5)) is not None:
        await asyncio.sleep(0.01)  # the work
        done.append(f"{name}:{msg.body['task']}")
        await mq.ack(msg)


async def main() -> None:
    url = os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0")
    ns = os.environ.get("RSMQ_NAMESPACE", "examples")
    async with AsyncRSMQ(url, namespace=ns, realtime=True) as mq:
        await mq.create_queue("tasks")
        await mq.send_many("tasks", [{"task": n} for n in range(10)])
        done: list[str] = []
        await asyncio.gather(*(worker(mq, f"w{i}", done) for i in range(3)))
        print("handled:", len(done), "tasks, each once:", len(set(done)) == 10)
        print("left:", (await mq.get_queue_attributes("tasks")).msgs)
        await mq.delete_queue("tasks")


asyncio.run(main())
