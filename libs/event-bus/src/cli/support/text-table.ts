/**
 * A plain text table: a header and left-aligned, padded columns. Written here because
 * `console.table` adds an index column, quotes strings and draws a box a terminal user then
 * cannot cut and paste from; a long cell is shortened with '…' to keep one row per line.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], maxCell = 60): string {
  const cell = (text: string): string => {
    const line = text.replace(/\s+/g, ' ');
    return line.length > maxCell ? `${line.slice(0, maxCell - 1)}…` : line;
  };
  const cells = rows.map((row) => row.map(cell));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}
