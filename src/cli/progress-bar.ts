import cliProgress from 'cli-progress';

/**
 * Progress of a long command: a bar on a terminal (cli-progress: share done, rows, rate, ETA), and
 * a plain line every few seconds otherwise (logs, CI), both on stderr so stdout keeps the summary.
 * `measure` says how far along the work is (bytes of a file, or records of a known total).
 */
export function progressReporter(measure: () => { done: number; total: number }, log: (line: string) => void) {
  const started = Date.now();
  const rate = (rows: number) => Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000));
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: '{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, measure().total), 0, { rows: 0, rate: 0 });
    return {
      update: (rows: number) => bar.update(Math.min(measure().done, measure().total), { rows, rate: rate(rows) }),
      done: (rows: number) => {
        bar.update(measure().total, { rows, rate: rate(rows) });
        bar.stop();
      },
    };
  }
  let lastLine = started;
  return {
    update: (rows: number) => {
      if (Date.now() - lastLine < 2000) return;
      lastLine = Date.now();
      const { done, total } = measure();
      log(`${rows} rows (${total ? Math.floor((100 * done) / total) : 0}%), ${rate(rows)} rows/s`);
    },
    done: () => undefined,
  };
}
