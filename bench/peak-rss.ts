// Preloaded into the importer by bench/import.ts: prints the process's peak resident set size as it exits.
process.on('exit', () => process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\n`));
