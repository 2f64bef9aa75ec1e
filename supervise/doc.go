// Package supervise runs a command as a child process and stays its
// parent: it forwards the signals a container receives, reaps zombies,
// exits with the child's code, and restarts the child with a new
// environment when its Source reports new values.
//
// It knows nothing of secret stores or of n8n: the new environments come
// from a [Source], which the main package builds over the providers.
//
// Everything that touches the child happens in one goroutine, the loop:
// signals, the child's exit, the refresh ticks, the renewal timer, the
// splay before a restart and the grace period after TERM all arrive there
// as messages, and the loop alone starts, signals and reaps the child. The
// Source's methods run one at a time in a second goroutine, the worker, so
// that a slow store never delays a signal; the two share no mutable state,
// they exchange messages.
//
// Signals: TERM, INT, HUP, QUIT, USR1, USR2 and WINCH go to the child; the
// exit code is the child's, 128+N when it died of signal N. As PID 1 it
// reaps every orphan that the kernel hands it; otherwise it registers as a
// child subreaper (PR_SET_CHILD_SUBREAPER), so that orphans of the child's
// tree come to it rather than to an init that may not reap them. Under
// tini both hold: tini reaps what reaches it, this process what reaches it.
//
// When standard input is not a terminal the child runs in a process group
// of its own, whose members are killed with it when the grace period after
// a TERM runs out. On a terminal the child shares the terminal's process
// group, so that it can read it; the terminal then delivers INT, QUIT and
// WINCH to the child itself, and they are not forwarded a second time.
package supervise
