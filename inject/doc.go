// Package inject is the core of n8n-secrets: it turns an environment that
// holds secret references into the environment a child process is started
// with.
//
// The pieces, in the order they run:
//
//   - [Stores.Parse] parses one reference into a [Reference]: the common
//     grammar (scheme, options, optional, selector) here, the rest by the
//     [Store] that declares the scheme; it is pure and does no I/O.
//   - [Scan] finds every variable whose value is a reference and every
//     NAME_FILE variable, and reports malformed ones.
//   - [Resolver] fetches each distinct secret once through a [Provider],
//     concurrently, with retries on transient faults under one deadline, and
//     applies selectors.
//   - [BuildEnv] builds the child's environment in memory: references
//     replaced by values, NAME_FILE and the injector's own settings and
//     provider credentials removed.
//
// Secret values travel as [Secret], a type that redacts itself in every
// formatting path (fmt, encoding/json, log/slog), so that a stray %v cannot
// leak one. Errors carry a stable [Code] and never a value.
//
// The package knows nothing of any particular backend: providers live in
// their own packages and import this one, never the reverse. It knows
// nothing of n8n either.
package inject
