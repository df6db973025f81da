// Package substitute implements Flux's post-build variable substitution
// (spec.postBuild.substitute / substituteFrom of a Kustomization): bash-style
// ${var} expressions in the YAML that kustomize produced are replaced by
// variable values, on the YAML text, so that a value lands with YAML typing
// (replicas: ${PODS:=0} becomes the integer 0) exactly as upstream does.
//
// # Supported syntax
//
// Upstream evaluates the text with drone/envsubst restricted to braced
// expressions; this package is an independent implementation of the same
// language. NAME is a variable name, ^[_[:alpha:]][_[:alpha:][:digit:]]*$.
//
//	${NAME}                 the value
//	${NAME:=word} ${NAME:-word} ${NAME=word} ${NAME-word}
//	                        the value, or word when the variable is unset or
//	                        empty (all four forms behave alike, as in
//	                        drone/envsubst; nothing is assigned)
//	${#NAME}                length of the value in characters
//	${NAME^} ${NAME^^}      upper-case the first / every character
//	${NAME,} ${NAME,,}      lower-case the first / every character
//	${NAME:pos} ${NAME:pos:len}
//	                        substring by character; pos and len are integers,
//	                        a negative pos counts from the end (write
//	                        "${NAME: -2}", as ":-" is the default form), a
//	                        negative len stops that many characters before
//	                        the end
//	${NAME#pat} ${NAME##pat}
//	                        remove the shortest / longest prefix matching pat
//	${NAME%pat} ${NAME%%pat}
//	                        remove the shortest / longest suffix matching pat
//	                        (pat is a path.Match pattern: *, ?, [...], \x;
//	                        '*' does not match '/')
//	${NAME/old/new} ${NAME//old/new} ${NAME/#old/new} ${NAME/%old/new}
//	                        replace the first / every / a leading / a trailing
//	                        occurrence of the literal string old ("/new" may
//	                        be left out to delete)
//	$${                     escape: produces a literal "${" and starts no
//	                        expression, so $${NAME} renders as ${NAME}
//
// Words (defaults, patterns, replacements) may themselves contain ${...}
// expressions; a default is only evaluated when it is used, so in strict mode
// ${A:=${B}} does not require B when A is set. A word ends at the first '}'
// (and a replace pattern at the first '/'); there is no backslash escaping of
// those characters.
//
// Anything else is left alone: a '$' not followed by '{' (plain $var is not
// substituted, as in Flux), "$$" not followed by '{', and text without '$'.
// A "${" that does not start a well-formed expression (${ x}, ${1}, ${a.b},
// a missing '}') is an error naming the expression and suggesting the $${
// escape, rather than being passed through silently.
//
// # Strict mode
//
// With Options.Strict, a variable that is not set and has no default fails
// the substitution, naming the variable and the object. A variable set to the
// empty string is set. Without Strict, unset variables expand to "".
//
// # Objects
//
// Objects labelled or annotated kustomize.toolkit.fluxcd.io/substitute:
// disabled are left untouched. Objects none of whose strings contain "${"
// are skipped without being serialized, which is the common case and keeps
// large builds cheap.
package substitute
