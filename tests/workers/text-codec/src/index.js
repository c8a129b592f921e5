// TextEncoder/TextDecoder round trips with non-ASCII text: byte counts, encodeInto with a
// short buffer, streaming decode with multi-byte characters split across chunks, fatal mode
// and replacement characters, BOM handling, atob/btoa.
const SAMPLES = ["plain ascii", "café déjà vu", "Ελληνικά", "日本語のテキスト", "emoji 🎉👩‍💻🚀", "mixed: a€b𝄞c"];

function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const enc = new TextEncoder();
    if (url.pathname === "/samples") {
      return Response.json(
        SAMPLES.map((s) => {
          const bytes = enc.encode(s);
          return { s, chars: s.length, codePoints: [...s].length, bytes: bytes.length, hex: hex(bytes), back: new TextDecoder().decode(bytes) === s };
        }),
      );
    }
    if (url.pathname === "/encode-into") {
      const out = [];
      for (const size of [0, 1, 3, 4, 5, 8, 64]) {
        const buf = new Uint8Array(size);
        const { read, written } = enc.encodeInto("a€𝄞é", buf);
        out.push({ size, read, written, hex: hex(buf.subarray(0, written)) });
      }
      return Response.json(out);
    }
    if (url.pathname === "/split") {
      // Feed the body one byte at a time through a streaming decoder.
      const bytes = new Uint8Array(await request.arrayBuffer());
      const dec = new TextDecoder();
      let text = "";
      for (const b of bytes) text += dec.decode(new Uint8Array([b]), { stream: true });
      text += dec.decode();
      return new Response(JSON.stringify({ text, length: text.length, reversed: [...text].reverse().join("") }), {
        headers: { "content-type": "application/json; charset=utf-8" },
      });
    }
    if (url.pathname === "/invalid") {
      const bad = new Uint8Array([0x61, 0xff, 0x62, 0xe2, 0x82, 0x63, 0xf0, 0x9f, 0x98]);
      let fatal;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bad);
        fatal = "no error";
      } catch (e) {
        fatal = e.name;
      }
      const replaced = new TextDecoder().decode(bad);
      const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]);
      return Response.json({
        fatal,
        replaced,
        replacedCodes: [...replaced].map((c) => c.codePointAt(0)),
        bomStripped: new TextDecoder().decode(bom),
        bomKept: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bom).length,
        label: new TextDecoder("UTF8").encoding,
        lone: hex(enc.encode("x\ud800y")),
      });
    }
    if (url.pathname === "/base64") {
      const text = await request.text();
      const b64 = btoa(String.fromCharCode(...enc.encode(text)));
      const back = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      let invalid;
      try {
        atob("not*base64");
      } catch (e) {
        invalid = e.name;
      }
      return Response.json({ b64, back, same: back === text, invalid, forgiving: atob(" aGk= ") });
    }
    return new Response("not found", { status: 404 });
  },
};
