import { VERSION } from "./util.js";

// Loaded on first use only: the sum of the first n primes.
export function heavy(n) {
  const primes = [];
  for (let c = 2; primes.length < n; c++) if (primes.every((p) => c % p !== 0)) primes.push(c);
  return { n, sum: primes.reduce((a, b) => a + b, 0), last: primes.at(-1), version: VERSION };
}
