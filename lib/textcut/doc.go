// Package textcut shortens UTF-8 text without cutting a rune in half.
// Its functions are pure and safe for concurrent use.
package textcut
