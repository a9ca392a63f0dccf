"""Progress of the rollup commands: a tqdm bar counting customers when stdout
is a terminal, nothing while running otherwise (the command prints one plain
summary line at the end, which is what cron mails and log files want)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.core.management.base import OutputWrapper
from tqdm import tqdm


def progress_chunks(chunks: Sequence[Sequence[int]], *, stdout: OutputWrapper, desc: str) -> Iterator[Sequence[int]]:
    """Yield the chunks of customer pks; on a terminal, advance a bar by each
    chunk's customers once the caller is done with it."""
    if not stdout.isatty():
        yield from chunks
        return
    # The wrapped stream itself: OutputWrapper.write would end each of tqdm's
    # carriage-return redraws with a newline.
    stream = getattr(stdout, "_out", stdout)
    with tqdm(total=sum(len(chunk) for chunk in chunks), desc=desc, unit=" customers", file=stream, dynamic_ncols=True) as bar:
        for chunk in chunks:
            yield chunk
            bar.update(len(chunk))
