/** Kept apart from bulk.ts so that `vbapi serve` does not load the file readers (exceljs is large) to print its usage. */
export const BULK_USAGE = `  import <benefits|benefit-categories|groups> <file> [--format csv|ndjson|json|xlsx] [--map mapping.json] [--sheet name]
         [--batch-size N] [--dry-run] [--all-or-none] [--report results.csv] [--resume] [--checkpoint file]
  export <benefits|benefit-categories|groups> [--format csv|ndjson|xlsx] [--out file]
  seed [--categories N] [--benefits N] [--groups N]
      import/export/seed talk to a running server: --server URL --api-key --client-id --client-code --database
      --username --password, or VBAPI_URL, VBAPI_API_KEY, VBAPI_CLIENT_ID, VBAPI_CLIENT_CODE, VBAPI_DATABASE,
      VBAPI_USERNAME, VBAPI_PASSWORD. Exit status: 0 every row succeeded, 1 some failed, 2 usage.`;

export const BULK_COMMANDS = new Set(['import', 'export', 'seed']);
