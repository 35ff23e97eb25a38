/**
 * Progress for slow steps (a first start, `database create` on the embedded store): silent when
 * the step takes under a second, otherwise a line when it is noticed, one every few seconds while
 * it lasts, and one when it ends, so a slow start never looks hung. Returns the function that ends it.
 */
export function progress(what: string, say: (line: string) => void, options: { firstAfterMs?: number; everyMs?: number } = {}): () => void {
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  let spoke = false;
  let timer = setTimeout(function tick() {
    say(spoke ? `still ${what} (${seconds()} s)` : `${what}…`);
    spoke = true;
    timer = setTimeout(tick, options.everyMs ?? 3000);
    timer.unref();
  }, options.firstAfterMs ?? 1000);
  timer.unref();
  return () => {
    clearTimeout(timer);
    if (spoke) say(`${what}: done in ${seconds()} s`);
  };
}

/** `work`, under `progress`. */
export async function step<T>(what: string, say: (line: string) => void, work: () => Promise<T>): Promise<T> {
  const done = progress(what, say);
  try {
    return await work();
  } finally {
    done();
  }
}
