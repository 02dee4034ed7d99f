"""Long tables printed chunk by chunk as their rows arrive, looking like one rich Table.

A rich ``Table`` measures and renders every cell through its layout engine: about half a
millisecond a cell, so 10k jobs took seconds after the last one had arrived. Here rich
lays out each chunk from a proxy table holding only the widest cells of each column (the
layout depends on nothing else), and rows whose cells fit their column are padded by
hand; a row that needs wrapping or cutting is rendered by rich with the same widths.
A listing that fits in one chunk prints exactly what the single rich Table printed;
later chunks keep the columns at least as wide as before, widening where a row needs it.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from itertools import chain

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

Cell = str | Text
Row = Sequence[Cell]
# Rows per chunk: large enough that ordinary listings are laid out as one table, small
# enough that the first rows show while a long listing is still arriving.
CHUNK_ROWS = 500
# Makes the rows' table without rows: its columns, box and padding, sized for ``rows``.
TableFactory = Callable[[Sequence[Row]], Table]


def cell_width(plain: str) -> int:
    # Most cells are printable ASCII: one cell a character, no need for rich's tables.
    return len(plain) if plain.isascii() and plain.isprintable() else cell_len(plain)


@dataclass(frozen=True)
class _Segments:
    """Lines already rendered to segments, printed as they are."""

    lines: list[list[Segment]]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _measure(plain: str) -> tuple[int, int]:
    """What rich's Text measurement gives: (longest word, longest line)."""
    if plain.isascii() and plain.isprintable() and " " not in plain:
        return len(plain), len(plain)  # one word on one line, the common case
    lines = plain.splitlines()
    longest_line = max(map(cell_width, lines)) if lines else 0
    words = plain.split()
    return (max(map(cell_width, words)) if words else longest_line), longest_line


class StreamedTable:
    def __init__(self, console: Console, make_table: TableFactory) -> None:
        self._console = console
        self._make_table = make_table
        self._widths: list[int] | None = None  # content widths, without padding
        self._printed_any = False

    def print_chunk(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        table = self._make_table(rows)
        plain = _plain_ascii(rows, len(table.columns))
        widths = self._layout(table, rows, plain)
        if widths is None:
            # Wider than the console even at rich's narrowest: rich crops and squeezes
            # columns in ways not worth copying, so it renders this chunk itself.
            whole = self._make_table(rows)
            whole.show_header = whole.show_header and not self._printed_any
            for row in rows:
                whole.add_row(*row)
            self._console.print(whole)
            self._printed_any = True
            return
        if not self._printed_any and table.show_header:
            self._console.print(self._fixed(widths, header=True))
        self._printed_any = True
        pads = [self._pads(table, index) for index in range(len(widths))]
        justifies = [column.justify for column in table.columns]
        if plain:
            text = _plain_lines(table, rows, widths, pads, justifies)
            if text is not None:
                self._flush([[Segment(text)]])
                return
        pending: list[list[Segment]] = []
        for row in rows:
            line = self._fast_line(table, row, widths, pads, justifies)
            if line is not None:
                pending.append(line)
                continue
            self._flush(pending)
            fallback = self._fixed(widths, header=False)
            fallback.add_row(*row)
            self._console.print(fallback)
        self._flush(pending)

    def finish(self) -> None:
        """An empty listing prints what the empty rich Table printed (a header, if any)."""
        if not self._printed_any:
            self._console.print(self._make_table(()))
            self._printed_any = True

    def _flush(self, lines: list[list[Segment]]) -> None:
        if lines:
            # The lines are exactly the table's width: nothing to wrap or crop.
            self._console.print(_Segments(lines), soft_wrap=True, crop=False)
            lines.clear()

    def _layout(self, table: Table, rows: Sequence[Row], plain: bool) -> list[int] | None:
        # The widest cells of each column (by longest word and by longest line) decide
        # rich's layout; a proxy table holding just those lays out like the whole chunk.
        lows, highs = _widest_plain(rows) if plain else self._widest(table, rows)
        if self._widths is not None:
            for column, previous in zip(table.columns, self._widths, strict=True):
                column.min_width = max(column.min_width or 0, previous)
        table.add_row(*lows)
        table.add_row(*highs)
        # rich's own layout step (private, but the one thing that must match it exactly).
        outer = table._calculate_column_widths(self._console, self._console.options)
        separators = len(outer) - 1 if table.box is not None else 0
        if sum(outer) + separators > self._console.width:
            return None
        widths = [width - sum(self._pads(table, index)) for index, width in enumerate(outer)]
        self._widths = widths
        return widths

    @staticmethod
    def _widest(table: Table, rows: Sequence[Row]) -> tuple[list[Cell], list[Cell]]:
        """Per column, a cell with the longest word and one with the longest line."""
        count = len(table.columns)
        best_min: list[tuple[int, Cell]] = [(-1, "")] * count
        best_max: list[tuple[int, Cell]] = [(-1, "")] * count
        # Cells of a column measured already: a repeated text (a date) measures the same.
        measured: list[set[str]] = [set() for _ in range(count)]
        for row in rows:
            for index, cell in enumerate(row):
                plain = _plain(cell)
                # An ASCII cell measures at most its length: most cells of a long listing
                # are no wider than the widest so far and need no measuring.
                if (
                    plain.isascii()
                    and len(plain) <= best_min[index][0]
                    and len(plain) <= best_max[index][0]
                ) or plain in measured[index]:
                    continue
                measured[index].add(plain)
                low, high = _measure(plain)
                if low > best_min[index][0]:
                    best_min[index] = (low, cell)
                if high > best_max[index][0]:
                    best_max[index] = (high, cell)
        return [cell for _, cell in best_min], [cell for _, cell in best_max]

    @staticmethod
    def _pads(table: Table, index: int) -> tuple[int, int]:
        """(left, right) padding of column ``index``, as rich's Table renders it."""
        _, right, _, left = table.padding
        if table.collapse_padding and index > 0:
            left = max(0, left - right)
        if not table.pad_edge:
            if index == 0:
                left = 0
            if index == len(table.columns) - 1:
                right = 0
        return left, right

    def _fast_line(
        self,
        table: Table,
        row: Row,
        widths: list[int],
        pads: list[tuple[int, int]],
        justifies: Sequence[str],
    ) -> list[Segment] | None:
        """The row as one line, or None when a cell needs rich (wrapping, cutting)."""
        separator = table.box.mid_vertical if table.box is not None else ""
        segments: list[Segment] = []
        gap = ""  # spaces (and the separator) waiting to go before the next cell
        for index, cell in enumerate(row):
            plain = cell.plain if isinstance(cell, Text) else cell
            if not plain.isprintable():
                # What rich does to every string it prints: control codes go. What is left
                # unprintable (a tab, a newline) rich expands or wraps: rich renders it.
                plain = plain if isinstance(cell, Text) else strip_control_codes(plain)
                if not plain.isprintable():
                    return None
            # Printable ASCII, the common case, is one cell a character.
            spare = widths[index] - (len(plain) if plain.isascii() else cell_len(plain))
            justify = justifies[index]
            if spare < 0 or justify not in ("left", "right", "default"):
                return None
            left, right = pads[index]
            before = left + (spare if justify == "right" else 0)
            after = right + (0 if justify == "right" else spare)
            gap += (separator if index else "") + " " * before
            if isinstance(cell, Text) and (cell.style or cell.spans):
                segments.append(Segment(gap))
                segments.extend(cell.render(self._console, end=""))
                gap = ""
            else:
                gap += plain
            gap += " " * after
        segments.append(Segment(gap))
        segments.append(Segment.line())
        return segments

    def _fixed(self, widths: list[int], *, header: bool) -> Table:
        table = self._make_table(())
        table.show_header = header and table.show_header
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
            column.min_width = column.max_width = None
        return table


def _plain_ascii(rows: Sequence[Row], count: int) -> bool:
    """Whether every row has ``count`` cells, all plain strings of printable ASCII (``ls -l``):
    such a chunk is measured and formatted a column at a time, not a cell at a time."""
    if set(map(len, rows)) != {count}:
        return False
    try:
        text = "".join(chain.from_iterable(rows))  # type: ignore[arg-type]
    except TypeError:  # a Text cell
        return False
    return text.isascii() and text.isprintable()


def _widest_plain(rows: Sequence[Row]) -> tuple[list[Cell], list[Cell]]:
    """``_widest`` of a ``_plain_ascii`` chunk: a printable ASCII cell is one line of its
    length, one word unless it has a space."""
    lows: list[Cell] = []
    highs: list[Cell] = []
    for column in zip(*rows, strict=True):
        highs.append(max(column, key=len))
        spaced = " " in "\n".join(column)
        lows.append(max(set(column), key=_longest_word) if spaced else highs[-1])
    return lows, highs


def _longest_word(cell: Cell) -> int:
    return _measure(_plain(cell))[0]


def _plain_lines(
    table: Table,
    rows: Sequence[Row],
    widths: list[int],
    pads: list[tuple[int, int]],
    justifies: Sequence[str],
) -> str | None:
    """The lines of a ``_plain_ascii`` chunk, formatted in one go: what ``_fast_line`` makes
    of each row, at a fraction of its per-cell cost. None where a cell does not fit its
    column or a column is justified some other way."""
    if any(justify not in ("left", "right", "default") for justify in justifies):
        return None
    columns = zip(*rows, strict=True)
    if any(max(map(len, column)) > width for column, width in zip(columns, widths, strict=True)):
        return None
    separator = table.box.mid_vertical if table.box is not None else ""
    separator = separator.replace("{", "{{").replace("}", "}}")
    fields = [
        " " * left + ("{:>%d}" if justify == "right" else "{:<%d}") % width + " " * right
        for width, (left, right), justify in zip(widths, pads, justifies, strict=True)
    ]
    template = separator.join(fields) + "\n"
    return "".join([template.format(*row) for row in rows])


async def print_streamed(
    console: Console,
    make_table: TableFactory,
    rows: AsyncIterator[Row],
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> None:
    """Print ``rows`` as they arrive, ``chunk_rows`` at a time."""
    table = StreamedTable(console, make_table)
    chunk: list[Row] = []
    async for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_rows:
            table.print_chunk(chunk)
            chunk = []
    table.print_chunk(chunk)
    table.finish()


def print_rows(
    console: Console, make_table: TableFactory, rows: Sequence[Row], *, chunk_rows: int = CHUNK_ROWS
) -> None:
    """Print rows already at hand (a sorted listing) the same way, chunk by chunk."""
    table = StreamedTable(console, make_table)
    for start in range(0, len(rows), chunk_rows):
        table.print_chunk(rows[start : start + chunk_rows])
    table.finish()
