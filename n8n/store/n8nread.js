// n8nread.js: how the real n8n reads its database variables and its
// encryption key, for n8nread_test.go. Run with node, in an n8n install's
// directory (its node_modules), it reads a JSON array of environments on
// stdin and prints, for each, what n8n's own code makes of it:
//
//   - @n8n/config's DatabaseConfig and InstanceSettingsConfig, built by
//     @n8n/di as n8n builds them (the key, the user folder, the type, the
//     table prefix, and the warnings of values n8n ignores);
//   - @n8n/db's DbConnectionOptions.getOptions(): the TypeORM options n8n
//     connects with (the SQLite path, the PostgreSQL settings, ssl);
//   - for PostgreSQL, node-postgres' ConnectionParameters of the options
//     TypeORM's PostgresDriver.createPool passes (the pg that @n8n/typeorm
//     loads): host, port, user, database, password, ssl, options and the
//     connect timeout, with node-postgres' PG* variables and defaults.
//
// Values are printed as they are: the test feeds it test values only.
'use strict';
const path = require('path');
const req = require('module').createRequire(path.join(process.cwd(), 'noop.js'));
req('reflect-metadata');
const { Container } = req('@n8n/di');
const cfg = req('@n8n/config');
const dbDir = path.dirname(req.resolve('@n8n/db'));
const { DbConnectionOptions } = req(path.join(dbDir, 'connection', 'db-connection-options.js'));
const pgDir = path.dirname(req.resolve('pg', { paths: [req.resolve('@n8n/typeorm')] }));
const ConnectionParameters = req(path.join(pgDir, 'connection-parameters.js'));
const pgDefaults = req(path.join(pgDir, 'defaults.js'));

const pgpassDir = path.dirname(req.resolve('pgpass', { paths: [pgDir] }));
const pgpassHelper = req(path.join(pgpassDir, 'helper.js'));
const { Readable } = require('stream');

// A case is {env, cwd} (the configuration), or {pgpass, conn, env}: the
// password the pgpass module finds in a file's contents for a connection.
async function pgpass(c) {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, c.env || {});
  return new Promise((resolve) => {
    pgpassHelper.getPassword(c.conn, Readable.from([Buffer.from(c.pgpass, 'utf8')]), (pw) => resolve({ password: pw === undefined ? null : pw }));
  });
}

async function main() {
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const results = [];
for (const c of input) {
  if (c.pgpass !== undefined) {
    results.push(await pgpass(c));
    continue;
  }
  const env = c.env;
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, env);
  if (c.cwd) process.chdir(c.cwd);
  // defaults.js reads USER when it is loaded.
  pgDefaults.user = process.env.USER;
  Container.reset();
  const out = { warnings: [] };
  const warn = console.warn;
  console.warn = (...a) => out.warnings.push(String(a[0]));
  try {
    const db = Container.get(cfg.DatabaseConfig);
    const inst = Container.get(cfg.InstanceSettingsConfig);
    out.encryptionKey = inst.encryptionKey;
    out.type = db.type;
    out.tablePrefix = db.tablePrefix;
    const o = new DbConnectionOptions(db, inst, { entities: [] }).getOptions();
    out.database = o.database;
    out.schema = o.schema;
    if (o.type === 'postgres') {
      // @n8n/typeorm's PostgresDriver.createPool.
      const p = new ConnectionParameters(Object.assign({}, {
        connectionString: undefined, host: o.host, user: o.username, password: o.password,
        database: o.database, port: o.port, ssl: o.ssl, connectionTimeoutMillis: o.connectTimeoutMS,
        application_name: o.applicationName, max: o.poolSize,
      }, o.extra || {}));
      out.pg = {
        host: p.host, port: String(p.port), user: p.user, database: p.database, password: p.password,
        // ConnectionParameters hides ssl.key from JSON: show it.
        ssl: p.ssl && typeof p.ssl === 'object' ? Object.assign({}, p.ssl, { key: p.ssl.key }) : p.ssl,
        options: p.options === undefined ? null : p.options,
        connectionTimeoutMillis: String(o.connectTimeoutMS),
      };
    }
  } catch (e) {
    out.error = String((e && e.message) || e).split('\n')[0];
  }
  console.warn = warn;
  results.push(out);
}
process.stdout.write(JSON.stringify(results));
}
main();
