"""The optional alarms in template.yaml: created only with AlarmTopicArn, notifying it, on the
provider's own Failed metric (every request type) and on Lambda's Errors of both functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
ALARMS = ("FailedRequestsAlarm", "FunctionErrorsAlarm", "RenewalGuardAlarm")
#: The ARN when given, else the topic of that name in the alarm's own account and region
#: (CloudWatch refuses an SNS action in another region: a StackSet passes a name).
ALARM_ACTION = {
    "Fn::If": [
        "HasAlarmTopicArn",
        {"Ref": "AlarmTopicArn"},
        {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AlarmTopicName}"},
    ]
}


def _template() -> Any:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return template


def _metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def test_alarm_topic_parameters_when_read_are_optional() -> None:
    parameters = _template()["Parameters"]
    assert parameters["AlarmTopicArn"]["Default"] == ""
    assert parameters["AlarmTopicName"]["Default"] == ""


@pytest.mark.parametrize("name", ALARMS)
def test_alarm_when_read_exists_only_with_a_topic_and_notifies_it(name: str) -> None:
    template = _template()
    alarm = template["Resources"][name]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    assert alarm["Condition"] == "HasAlarmTopic"
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Or": [
            {"Condition": "HasAlarmTopicArn"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicName"}, ""]}]},
        ]
    }
    assert template["Conditions"]["HasAlarmTopicArn"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }
    assert alarm["Properties"]["AlarmActions"] == [ALARM_ACTION]
    assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    returned = [query for query in alarm["Properties"]["Metrics"] if query["ReturnData"]]
    assert len(returned) == 1


def test_failed_requests_alarm_when_read_sums_every_request_type() -> None:
    alarm = _template()["Resources"]["FailedRequestsAlarm"]["Properties"]
    metrics = _metric_stats(alarm)
    request_types = set()
    for metric in metrics:
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert metric["Namespace"] == "DnsCertificate"
        assert metric["MetricName"] == "Failed"
        assert dimensions["Provider"] == {"Ref": "AWS::StackName"}
        request_types.add(dimensions["RequestType"])
    assert request_types == {"Create", "Update", "Delete"}


def test_function_errors_alarm_when_read_watches_both_functions() -> None:
    alarm = _template()["Resources"]["FunctionErrorsAlarm"]["Properties"]
    functions = set()
    for metric in _metric_stats(alarm):
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Lambda", "Errors")
        functions.add(metric["Dimensions"][0]["Value"]["Ref"])
    assert functions == {"CertificateFunction", "CertificateFailureFunction"}


def test_alarms_when_read_match_what_the_code_emits() -> None:
    from dns_certificate import metrics

    template = _template()
    for name in ("CertificateFunction", "CertificateFailureFunction"):
        variables = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == metrics.DEFAULT_NAMESPACE
        assert variables["METRICS_PROVIDER"] == {"Ref": "AWS::StackName"}
    alarm = template["Resources"]["FailedRequestsAlarm"]["Properties"]
    for metric in _metric_stats(alarm):
        assert metric["Namespace"] == metrics.DEFAULT_NAMESPACE
        assert metric["MetricName"] == metrics.FAILED
        names = {d["Name"] for d in metric["Dimensions"]}
        assert names == {metrics.PROVIDER_DIMENSION, metrics.REQUEST_TYPE_DIMENSION}


def test_renewal_guard_alarm_when_read_watches_what_the_guard_counts() -> None:
    """Issue 25 point 6: certificates the guard could not check or cannot reach (only logged
    before) page like a FAILED answer: they are the silent expiries the guard exists for."""
    from dns_certificate import metrics

    alarm = _template()["Resources"]["RenewalGuardAlarm"]["Properties"]
    watched = set()
    for metric in _metric_stats(alarm):
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert metric["Namespace"] == metrics.DEFAULT_NAMESPACE
        assert dimensions == {
            metrics.PROVIDER_DIMENSION: {"Ref": "AWS::StackName"},
            metrics.REQUEST_TYPE_DIMENSION: metrics.RENEWAL_GUARD,
        }
        watched.add(metric["MetricName"])
    assert watched == {metrics.GUARD_FAILED, metrics.GUARD_CANNOT_REPAIR}
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if q["ReturnData"]]
    ids = [q["Id"] for q in alarm["Metrics"] if "MetricStat" in q]
    assert all(f"FILL({query_id}, 0)" in expression for query_id in ids)
