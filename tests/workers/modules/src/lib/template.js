// {{name}} placeholders, filled from an object; unknown names stay as they are.
export function render(text, values) {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
