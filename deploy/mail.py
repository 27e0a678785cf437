"""E-mail of a deployed stage: the sender's SES identity (the stage's MAIL_FROM address, or with MailDomain a
domain identity signed with DKIM), a configuration set whose bounces and complaints reach an SNS topic, and
that topic's delivery to the MailFeedback function (which suppresses the address)."""

from __future__ import annotations

from typing import Any

FEEDBACK_EVENTS = ["bounce", "complaint"]
IDENTITY_ARN = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
CONFIGURATION_SET_ARN = (
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${MailConfigurationSet}"
)


def mail_parameters() -> dict[str, Any]:
    return {
        "MailDomain": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)?$",
            "Description": "A domain of yours to send from (the stage's MAIL_FROM must be under it), verified by "
            "DKIM: publish the three MailDkim outputs as CNAME records. Empty: the MAIL_FROM address alone.",
        }
    }


def mail_conditions() -> dict[str, Any]:
    has_domain = {"Fn::Not": [{"Fn::Equals": [{"Ref": "MailDomain"}, ""]}]}
    return {"HasMailDomain": has_domain, "SendsFromAddress": {"Fn::Equals": [{"Ref": "MailDomain"}, ""]}}


def sender_identity_arn() -> dict[str, Any]:
    """The ARN of the identity the functions send as (IAM checks it on ses:SendEmail)."""
    return {
        "Fn::If": [
            "HasMailDomain",
            {"Fn::Sub": IDENTITY_ARN + "${MailDomain}"},
            {"Fn::Sub": IDENTITY_ARN + "${MailSenderIdentity}"},
        ]
    }


def mail_resources(stage: str, sender: str, retention: dict[str, str]) -> dict[str, Any]:
    """The identities (one of the two, by MailDomain), the configuration set, and its feedback topic."""
    name = f"sessions-marketplace-{stage}"
    return {
        "MailSenderIdentity": {
            "Type": "AWS::SES::EmailIdentity",
            "Condition": "SendsFromAddress",
            **retention,
            "Properties": {"EmailIdentity": sender},
        },
        "MailDomainIdentity": {
            "Type": "AWS::SES::EmailIdentity",
            "Condition": "HasMailDomain",
            **retention,
            "Properties": {
                "EmailIdentity": {"Ref": "MailDomain"},
                "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
                "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": "MailConfigurationSet"}},
            },
        },
        "MailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": name,
                "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
                "ReputationOptions": {"ReputationMetricsEnabled": True},
            },
        },
        "MailFeedbackTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": f"Sessions Marketplace {stage}: SES bounces and complaints"},
        },
        "MailFeedbackTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "MailFeedbackTopic"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SesPublishesThisStagesFeedback",
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": {"Ref": "MailFeedbackTopic"},
                            "Condition": {
                                "StringEquals": {
                                    "AWS:SourceAccount": {"Ref": "AWS::AccountId"},
                                    "AWS:SourceArn": {"Fn::Sub": CONFIGURATION_SET_ARN},
                                }
                            },
                        }
                    ],
                },
            },
        },
        "MailFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "DependsOn": ["MailFeedbackTopicPolicy"],
            "Properties": {
                "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": FEEDBACK_EVENTS,
                    "SnsDestination": {"TopicARN": {"Ref": "MailFeedbackTopic"}},
                },
            },
        },
    }


def feedback_subscription() -> dict[str, Any]:
    """The topic's delivery to MailFeedback (its live alias); only when the app has that function."""
    return {
        "MailFeedbackSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "MailFeedbackTopic"},
                "Protocol": "lambda",
                "Endpoint": {"Ref": "MailFeedback.Alias"},
            },
        },
        "MailFeedbackInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "MailFeedback.Alias"},
                "Action": "lambda:InvokeFunction",
                "Principal": "sns.amazonaws.com",
                "SourceArn": {"Ref": "MailFeedbackTopic"},
            },
        },
    }


def mail_outputs() -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "MailSender": {"Value": {"Fn::If": ["HasMailDomain", {"Ref": "MailDomain"}, {"Ref": "MailSenderIdentity"}]}},
        "MailConfigurationSet": {"Value": {"Ref": "MailConfigurationSet"}},
    }
    for n in (1, 2, 3):
        outputs[f"MailDkim{n}"] = {
            "Condition": "HasMailDomain",
            "Description": "A CNAME record to publish for DKIM: name, then value",
            "Value": {
                "Fn::Join": [
                    " CNAME ",
                    [
                        {"Fn::GetAtt": ["MailDomainIdentity", f"DkimDNSTokenName{n}"]},
                        {"Fn::GetAtt": ["MailDomainIdentity", f"DkimDNSTokenValue{n}"]},
                    ],
                ]
            },
        }
    return outputs
