package update

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"gotk.dev/image-automation-controller/internal/setters"
)

// DefaultMessage is the commit message when .spec.git.commit.messageTemplate is empty.
const DefaultMessage = "Update from image update automation"

// AutomationObject names the ImageUpdateAutomation in template data; {{ .AutomationObject }}
// prints "namespace/name".
type AutomationObject struct {
	Namespace, Name string
}

func (o AutomationObject) String() string { return o.Namespace + "/" + o.Name }

// TemplateData is the value a commit message template is executed with; it has the shape
// upstream Flux documents.
type TemplateData struct {
	AutomationObject AutomationObject
	// Changed is the change set: .Changed.FileChanges, .Changed.Objects, .Changed.Changes.
	Changed setters.Result
	// Values is .spec.git.commit.messageTemplateValues.
	Values map[string]string
}

// TemplateError is a message template that cannot be parsed or executed: the user has to
// change .spec.git.commit.messageTemplate (a stalling failure).
type TemplateError struct{ Err error }

func (e *TemplateError) Error() string {
	return "invalid .spec.git.commit.messageTemplate: " + e.Err.Error()
}
func (e *TemplateError) Unwrap() error { return e.Err }

// RenderMessage executes tmpl (Go text/template with the Sprig functions) over data; an empty
// tmpl gives DefaultMessage. Templates using the removed .Updated data fail with a message
// saying to use .Changed.
func RenderMessage(tmpl string, data TemplateData) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		return DefaultMessage, nil
	}
	t, err := template.New("commit message").Funcs(sprig.TxtFuncMap()).Option("missingkey=zero").Parse(tmpl)
	if err != nil {
		return "", &TemplateError{Err: err}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		if strings.Contains(err.Error(), "can't evaluate field Updated") {
			return "", &TemplateError{Err: fmt.Errorf("the .Updated template data was removed, use .Changed: %w", err)}
		}
		return "", &TemplateError{Err: err}
	}
	return buf.String(), nil
}
