// Byte helpers shared by the runtime's modules. (The streams keep their own, built on
// primitives a Worker cannot tamper with: streams_common.js.)

// The Uint8Arrays as one: the only one itself when there is just one (callers that hand the
// result out must not share it), else a new array of them all in order.
export function concatBytes(chunks) {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
