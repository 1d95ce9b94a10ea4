"""Server-side batching, like TF Serving's batching parameters: requests that arrive within
`timeout` of each other are answered by one model call of up to `max_batch_size` values.

One batch runs at a time per model (in a worker thread, off the event loop); requests that
arrive meanwhile wait and form the next batch, so batches grow with the load.
"""

import asyncio
import dataclasses
from collections.abc import Callable


@dataclasses.dataclass
class _Waiting:
    values: list
    answers: asyncio.Future


class Batcher:
    """Runs `answer(values) -> per-value results` on batches gathered from many requests.

    Args:
        answer: the model call; takes a list of values, returns one result per value.
        max_batch_size: the most values in one call; a single request may not hold more.
        timeout: seconds to wait for more requests once one is waiting.
        run_in_thread: `await run_in_thread(function, argument)` runs the call off the loop.
    """

    def __init__(
        self,
        answer: Callable[[list], list],
        max_batch_size: int,
        timeout: float,
        run_in_thread: Callable,
    ):
        self.answer = answer
        self.max_batch_size = max_batch_size
        self.timeout = timeout
        self.run_in_thread = run_in_thread
        self._queue: asyncio.Queue | None = None
        self._held_back: _Waiting | None = None
        self._worker: asyncio.Task | None = None
        self.batches_run = 0
        self.largest_batch = 0

    async def submit(self, values: list) -> list:
        """The results for one request's values, once the batch holding them has run."""
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run_batches())
        waiting = _Waiting(values, asyncio.get_running_loop().create_future())
        await self._queue.put(waiting)
        return await waiting.answers

    def statistics(self) -> dict:
        """How many batches ran and the largest one, for `/healthz`."""
        return {"batches": self.batches_run, "largest_batch": self.largest_batch}

    async def close(self) -> None:
        """Stops the worker once no request is waiting (call after the server drained)."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def _run_batches(self) -> None:
        while True:
            batch = await self._gather()
            values = [value for waiting in batch for value in waiting.values]
            self.batches_run += 1
            self.largest_batch = max(self.largest_batch, len(values))
            try:
                results = await self.run_in_thread(self.answer, values)
            except Exception as error:  # noqa: BLE001 - every waiting request gets the error
                for waiting in batch:
                    if not waiting.answers.done():
                        waiting.answers.set_exception(error)
                continue
            start = 0
            for waiting in batch:
                if not waiting.answers.done():  # its client may have gone
                    waiting.answers.set_result(results[start : start + len(waiting.values)])
                start += len(waiting.values)

    async def _gather(self) -> list[_Waiting]:
        """The next batch: the first waiting request, then others until the batch is full or
        `timeout` has passed; a request that would overflow the batch starts the next one."""
        first = self._held_back or await self._queue.get()
        self._held_back = None
        batch, size = [first], len(first.values)
        deadline = asyncio.get_running_loop().time() + self.timeout
        while size < self.max_batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                waiting = (
                    self._queue.get_nowait()
                    if remaining <= 0
                    else await asyncio.wait_for(self._queue.get(), remaining)
                )
            except (asyncio.QueueEmpty, TimeoutError):
                break
            if size + len(waiting.values) > self.max_batch_size:
                self._held_back = waiting
                break
            batch.append(waiting)
            size += len(waiting.values)
        return batch
