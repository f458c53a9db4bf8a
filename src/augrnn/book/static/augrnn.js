// Label every cell of a pandas table with its column's header (data-label), so that the phone
// layout of augrnn.css can show each row as a card. Header rows with colspans (MultiIndex columns)
// and body cells with rowspans (MultiIndex rows) are laid out on a grid first.
function augrnnGrid(rows) {
  const grid = [];
  rows.forEach((row, r) => {
    grid[r] = grid[r] || [];
    let c = 0;
    for (const cell of row.cells) {
      while (grid[r][c] !== undefined) c++;
      for (let dr = 0; dr < (cell.rowSpan || 1); dr++) {
        grid[r + dr] = grid[r + dr] || [];
        for (let dc = 0; dc < (cell.colSpan || 1); dc++) grid[r + dr][c + dc] = cell;
      }
      cell.dataset.augrnnCol = c;
      c += cell.colSpan || 1;
    }
  });
  return grid;
}

function augrnnLabelTable(table) {
  if (!table.tHead || !table.tBodies.length) return;
  const head = augrnnGrid(Array.from(table.tHead.rows));
  const labels = [];
  head.forEach((row) =>
    row.forEach((cell, c) => {
      const text = cell.textContent.trim();
      if (text && !(labels[c] || []).includes(text)) (labels[c] = labels[c] || []).push(text);
    })
  );
  for (const body of table.tBodies) {
    const rows = Array.from(body.rows);
    const grid = augrnnGrid(rows);
    // A row whose group label (a rowspan from a row above) it shares gets a copy of that label,
    // shown only on a phone, where each row stands alone as a card.
    rows.forEach((row, r) => {
      const first = row.cells.length ? +row.cells[0].dataset.augrnnCol : 0;
      for (let c = first - 1; c >= 0; c--) {
        const copy = grid[r][c].cloneNode(true);
        copy.removeAttribute("rowspan");
        copy.classList.add("augrnn-repeat");
        copy.dataset.augrnnCol = c;
        row.insertBefore(copy, row.firstChild);
      }
    });
    for (const cell of body.querySelectorAll("td, th")) {
      const label = (labels[+cell.dataset.augrnnCol] || []).join(" · ");
      if (label) cell.dataset.label = label;
    }
  }
  table.classList.add("augrnn-cards");
}

document.addEventListener("DOMContentLoaded", () =>
  document.querySelectorAll("article table.dataframe, article table.table").forEach(augrnnLabelTable)
);
