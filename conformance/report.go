package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Line is the one-line form of a result: "PASS name", "FAIL name: want …,
// got …" or "SKIP name: why".
func (res Result) Line() string {
	word := strings.ToUpper(string(res.Status))
	if res.Message == "" {
		return word + " " + res.Name
	}
	return word + " " + res.Name + ": " + res.Message
}

// Summary is the last line of a text report, e.g. "62 passed, 0 failed, 3
// skipped of 65 cases against http://… (…)".
func (rep *Report) Summary() string {
	control := "without the control plane"
	if rep.ControlPlane {
		control = "with the control plane"
	}
	out := fmt.Sprintf("%d passed, %d failed, %d skipped of %d cases against %s (%s) in %s; %d requests, %d accounts registered (%s…), %d sessions, %d logged out at the end",
		rep.Passed, rep.Failed, rep.Skipped, len(rep.Results), rep.URL, control, rep.Duration.Round(time.Millisecond),
		rep.Requests, rep.Accounts, rep.Prefix, rep.Sessions, rep.LoggedOut)
	if n := rep.FinalLogouts - rep.LoggedOut; n > 0 {
		out += fmt.Sprintf(" (%d more refused the final logout: expired or revoked already)", n)
	}
	return out
}

// WriteJSON writes the report as one JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// JUnit XML, in the common form (the Apache Ant schema that CI systems
// read): <testsuites> holding one <testsuite> with one <testcase> per case.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// WriteJUnit writes the report as JUnit XML: one testcase per case, its
// classname "conformance." and the case's group (the name up to the first
// "/"), a failure or skipped element with the message.
func (rep *Report) WriteJUnit(w io.Writer) error {
	host := rep.URL
	if u, err := url.Parse(rep.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	s := junitSuite{
		Name: "dyormock conformance", Package: "conformance", Tests: len(rep.Results),
		Failures: rep.Failed, Skipped: rep.Skipped, Time: seconds(rep.Duration),
		Timestamp: rep.Started.UTC().Format("2006-01-02T15:04:05"), Hostname: host,
		Properties: []junitProperty{
			{"url", rep.URL}, {"control_plane", strconv.FormatBool(rep.ControlPlane)},
			{"prefix", rep.Prefix}, {"requests", strconv.Itoa(rep.Requests)},
			{"accounts", strconv.Itoa(rep.Accounts)}, {"logged_out", strconv.Itoa(rep.LoggedOut)},
		},
		SystemOut: rep.Summary(),
	}
	for _, res := range rep.Results {
		group, _, _ := strings.Cut(res.Name, "/")
		c := junitCase{Name: res.Name, Classname: "conformance." + group, Time: seconds(res.Duration)}
		switch res.Status {
		case Fail:
			c.Failure = &junitMessage{Message: res.Message, Type: "conformance", Text: res.Message}
		case Skip:
			c.Skipped = &junitMessage{Message: res.Message}
		}
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{Name: "dyormock conformance", Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped,
		Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
