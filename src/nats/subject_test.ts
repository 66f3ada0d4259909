import assert from "node:assert/strict";
import {
  coverSubject,
  renderSubject,
  streamNameProblem,
  streamSubjectFor,
  subjectMatches,
  subjectProblem,
  subjectToken,
  templateProblem,
} from "./subject.ts";

Deno.test("subjectToken() keeps a host name one token, whatever it holds", () => {
  assert.equal(subjectToken("web-1.example.com"), "web-1_example_com");
  assert.equal(subjectToken("a b*c>d\n"), "a_b_c_d_");
  assert.equal(subjectToken(""), "_");
  assert.equal(subjectToken("app_2"), "app_2");
});

Deno.test("renderSubject() fills {host} and {stream} with tokens", () => {
  assert.equal(
    renderSubject("logwisp.{host}.{stream}", { host: "web-1.example.com", stream: "app" }),
    "logwisp.web-1_example_com.app",
  );
  assert.equal(
    renderSubject("logs.{stream}", { host: "h", stream: "my stream" }),
    "logs.my_stream",
  );
});

Deno.test("subjectProblem() tells publish subjects from filters", () => {
  assert.equal(subjectProblem("logwisp.h.app", { wildcards: false }), undefined);
  assert.equal(subjectProblem("logwisp.*.app", { wildcards: true }), undefined);
  assert.equal(subjectProblem("logwisp.>", { wildcards: true }), undefined);
  assert.match(subjectProblem("logwisp.*.app", { wildcards: false })!, /cannot contain "\*"/);
  assert.match(subjectProblem("logwisp.>.app", { wildcards: true })!, /must be the last token/);
  assert.match(subjectProblem("logwisp.a*.app", { wildcards: true })!, /whole tokens/);
  assert.match(subjectProblem("logwisp..app", { wildcards: true })!, /empty token/);
  assert.match(subjectProblem("log wisp", { wildcards: true })!, /spaces/);
  assert.match(subjectProblem("", { wildcards: true })!, /empty/);
});

Deno.test("templateProblem() names an unknown placeholder", () => {
  assert.equal(templateProblem("logwisp.{host}.{stream}"), undefined);
  assert.match(templateProblem("logwisp.{hostname}")!, /unknown placeholder "\{hostname\}"/);
  assert.match(templateProblem("logwisp.{host}.>")!, /cannot contain/);
  assert.match(templateProblem("logwisp.{host}.")!, /empty token/);
});

Deno.test("subjectMatches() follows NATS wildcard rules", () => {
  assert.equal(subjectMatches("logwisp.*.app", "logwisp.web-1.app"), true);
  assert.equal(subjectMatches("logwisp.*.app", "logwisp.web-1.sys"), false);
  assert.equal(subjectMatches("logwisp.>", "logwisp.web-1.app"), true);
  assert.equal(subjectMatches("logwisp.>", "logwisp"), false);
  assert.equal(subjectMatches("logwisp.*", "logwisp.a.b"), false);
  assert.equal(subjectMatches("logwisp.a.b", "logwisp.a.b"), true);
  assert.equal(subjectMatches(">", "x"), true);
});

Deno.test("coverSubject() is one filter that matches everything the filters match", () => {
  const cases: [string[], string][] = [
    [["logwisp.a.app"], "logwisp.a.app"],
    [["logwisp.a.app", "logwisp.b.app"], "logwisp.*.app"],
    [["logwisp.a.app", "logwisp.b.sys"], "logwisp.*.*"],
    [["logwisp.a", "logwisp.a.b"], "logwisp.>"],
    [["a.b.>", "a.c"], "a.>"],
    [["a", "b.c"], ">"],
    [["logwisp.>", "logwisp.a.b"], "logwisp.>"],
  ];
  for (const [filters, cover] of cases) {
    assert.equal(coverSubject(filters), cover, JSON.stringify(filters));
  }
  const subjects = ["logwisp.a.app", "logwisp.b.sys", "logwisp.a", "a.c", "a.b.x.y", "b.c", "a"];
  for (const [filters] of cases) {
    const cover = coverSubject(filters);
    for (const subject of subjects) {
      if (filters.some((filter) => subjectMatches(filter, subject))) {
        assert.ok(subjectMatches(cover, subject), `${cover} must match ${subject}`);
      }
    }
  }
});

Deno.test("streamSubjectFor() covers every subject of the template", () => {
  assert.equal(streamSubjectFor("logwisp.{host}.{stream}"), "logwisp.>");
  assert.equal(streamSubjectFor("logs.prod.{stream}"), "logs.prod.>");
  assert.equal(streamSubjectFor("{host}.logs.{stream}"), "*.logs.*");
  assert.equal(streamSubjectFor("fixed.subject"), "fixed.subject");
  for (const template of ["logwisp.{host}.{stream}", "{host}.logs.{stream}", "a.{host}x"]) {
    const subject = renderSubject(template, { host: "web-1.example.com", stream: "app" });
    assert.ok(subjectMatches(streamSubjectFor(template), subject), template);
  }
});

Deno.test("streamNameProblem() refuses names JetStream refuses", () => {
  assert.equal(streamNameProblem("LOGWISP"), undefined);
  assert.equal(streamNameProblem("logs-prod_1"), undefined);
  for (const name of ["", "a.b", "a b", "a*", "a>", "a/b", "a\\b"]) {
    assert.ok(streamNameProblem(name), JSON.stringify(name));
  }
});
