package main

import (
	"flag"
	"strings"

	"github.com/wxemu/wxemu/emulator"
	"github.com/wxemu/wxemu/emulator/config"
)

// functionFlags is the repeatable --function [APP=]DIR of serve and run: a Mini Program cloud
// function to run, unmodified, for the app (default: the first Mini Program).
type functionFlags []string

func (f *functionFlags) String() string { return strings.Join(*f, ",") }

func (f *functionFlags) Set(v string) error {
	*f = append(*f, v)
	return nil
}

func (f *functionFlags) register(fs *flag.FlagSet) {
	fs.Var(f, "function", "run the Mini Program cloud function in `[APP=]DIR` (index.js, node_modules) for the app, default the first Mini Program; repeatable")
}

// options builds the emulator's function options from the flags.
func (f *functionFlags) options(cfg *config.Config) (emulator.FunctionOptions, error) {
	var fo emulator.FunctionOptions
	for _, v := range *f {
		spec, err := emulator.ParseFunctionFlag(cfg, v)
		if err != nil {
			return fo, err
		}
		fo.Extra = append(fo.Extra, spec)
	}
	return fo, nil
}
