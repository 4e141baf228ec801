// Package dlpbench compares the Portcullis sensitive-data engine with
// gitleaks v8 used as a library (default configuration), in the same process
// on the same inputs. It is a module of its own so that gitleaks and its
// dependencies stay out of the filter's module.
package dlpbench
