// Written by `npm run migrations:generate`. Once released, a migration never changes: change the
// record descriptions and generate the next one instead.
export default {
  version: 2,
  name: "idempotency keys",
  statements: [
    `CREATE TABLE "idempotency_keys" (
  "client_id" text NOT NULL,
  "idempotency_key" text NOT NULL,
  "fingerprint" text NOT NULL,
  "status" integer NOT NULL,
  "headers" text NOT NULL,
  "body" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "expires_at" timestamptz NOT NULL,
  CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("client_id", "idempotency_key")
)`,
    `CREATE INDEX "idempotency_keys_expires_at" ON "idempotency_keys" ("expires_at")`,
  ],
};
