"""Asking the user a question from inside a running command."""

import asyncio
import threading

import click


async def ask(question: str) -> str:
    """Prompt on the terminal without blocking the event loop; empty input is allowed.

    The blocking read runs in a daemon thread rather than the loop's executor: on
    Ctrl-C the command is cancelled at once and the process can exit while the thread
    is still waiting for a line that will never come.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver_answer(text: str) -> None:
        if not answer.done():
            answer.set_result(text)

    def deliver_error(exc: BaseException) -> None:
        if not answer.done():
            answer.set_exception(exc)

    def read_line() -> None:
        try:
            text = click.prompt(question, default="", show_default=False, prompt_suffix="")
        except BaseException as exc:  # e.g. click.Abort on end of input
            loop.call_soon_threadsafe(deliver_error, exc)
        else:
            loop.call_soon_threadsafe(deliver_answer, str(text))

    threading.Thread(target=read_line, name="neuro-prompt", daemon=True).start()
    return await answer
