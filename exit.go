package main

import (
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// exitOf is the one place that decides a command's exit code before exec,
// from what stopped it: the signal sig (0 for none), whether the n8n guard
// refused the start, and the log codes of its failures (a failure's code
// declares its exit: logcode.Code.Exit in the packages' Codes).
//   - A signal: 128+N, as a shell reports a death by signal N (130 for
//     SIGINT, 143 for SIGTERM), whatever else failed.
//   - A refusal of the guard: 78, unless its one failure is a code that
//     declares 69 (n8n's database did not answer, under
//     N8N_SECRETS_VERIFY_KEY=on).
//   - Otherwise the most pressing of the exits the codes declare (64, 77,
//     69, 65; logcode.MostPressing); a code that declares none is 65, and
//     CANCELED without a signal is 130.
func exitOf(sig syscall.Signal, guard bool, codes ...logcode.Code) int {
	if sig != 0 {
		return 128 + int(sig)
	}
	exits := make([]int, 0, len(codes))
	for _, c := range codes {
		switch e := c.Exit(); e {
		case 0:
			exits = append(exits, inject.ExitData)
		case logcode.ExitSignal:
			exits = append(exits, 128+int(syscall.SIGINT))
		default:
			exits = append(exits, e)
		}
	}
	if guard {
		if len(exits) == 1 && exits[0] == inject.ExitUnavailable {
			return inject.ExitUnavailable
		}
		return inject.ExitConfig
	}
	return logcode.MostPressing(exits...)
}

// failedCodes returns the log codes of errs, failures of the resolution.
func failedCodes(errs []error) []logcode.Code {
	codes := make([]logcode.Code, 0, len(errs))
	for _, err := range errs {
		codes = append(codes, inject.CodeOf(err))
	}
	return codes
}
