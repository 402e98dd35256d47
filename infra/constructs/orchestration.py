"""The Lambda functions (one asset folder) and the Step Functions flow seed -> deliver -> crawl."""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.nag import acknowledge, arn_finding

RUNTIME = lambda_.Runtime.PYTHON_3_12
DEFAULT_POLL_SECONDS = 10
DEFAULT_MAX_POLLS = 90
ASSET_EXCLUDES = ["__pycache__", "*.pyc"]


class PipelineFunctions(Construct):
    """enricher (Firehose transformation), seeder (BatchWriteItem from S3), delivery_monitor.

    Each has its own role (writing only to its own log group) and an explicit log group with a
    retention, so no log-retention custom resource is needed.
    """

    def __init__(
        self, scope: Construct, id_: str, *, asset_dir: Path, log_retention: logs.RetentionDays
    ) -> None:
        super().__init__(scope, id_)
        if not (asset_dir / "enricher.py").is_file():
            raise FileNotFoundError(f"Lambda asset folder {asset_dir} has no enricher.py; is the repository complete?")
        self._code = lambda_.Code.from_asset(str(asset_dir), exclude=ASSET_EXCLUDES)
        self._retention = log_retention
        self.enricher = self._function(
            "Enricher",
            "enricher.handler",
            "Firehose transformation: DynamoDB change records -> lake rows with year/month/day partition keys.",
            timeout=cdk.Duration.seconds(60),
            memory_size=256,
        )
        self.seeder = self._function(
            "Seeder",
            "seeder.handler",
            "Seeds the DynamoDB table from the data set in the raw bucket with BatchWriteItem.",
            timeout=cdk.Duration.minutes(15),
            memory_size=1024,
        )
        self.delivery_monitor = self._function(
            "DeliveryMonitor",
            "delivery_monitor.handler",
            "Step Functions helper: has the delivery stream delivered what the seeder wrote?",
            timeout=cdk.Duration.seconds(30),
            memory_size=128,
        )
        # GetMetricData has no resource-level permissions (IAM requires Resource "*").
        self.delivery_monitor.add_to_role_policy(
            iam.PolicyStatement(sid="ReadDeliveryMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"])
        )
        acknowledge(
            self.delivery_monitor.role,
            "AwsSolutions-IAM5",
            "cloudwatch:GetMetricData supports no resource-level permissions; Resource must be '*'. "
            "The action is read-only.",
            applies_to=["Resource::*"],
        )

    def _function(self, id_: str, handler: str, description: str, **kwargs) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{id_}Logs", retention=self._retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            f"{id_}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{id_} Lambda: its own log group, plus what the stack grants it.",
        )
        log_group.grant(role, "logs:CreateLogStream", "logs:PutLogEvents")
        fn = lambda_.Function(
            self,
            id_,
            runtime=RUNTIME,
            handler=handler,
            code=self._code,
            description=description,
            role=role,
            log_group=log_group,
            architecture=lambda_.Architecture.ARM_64,
            **kwargs,
        )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            f"Pinned to {RUNTIME.name}, the runtime this stdlib+boto3 code is tested for; moving "
            "to a newer runtime is a deliberate, tested change rather than a silent one.",
        )
        return fn


class Orchestration(Construct):
    """The state machine: seed, poll until Firehose drained, start the crawler, poll until it is done.

    Input (all optional): {"pollSeconds": 10, "maxPolls": 90}. Every wait is `pollSeconds` long
    (SecondsPath); there is no fixed multi-minute wait.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        functions: PipelineFunctions,
        delivery_stream_name: str,
        source_stream_name: str,
        crawler_name: str,
        crawler_arn: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        defaults, valid, invalid = self._input_states()
        seed = self._seed(functions)
        crawler_loop = self._crawler_loop(crawler_name, crawler_arn)
        delivery_loop = self._delivery_loop(functions, delivery_stream_name, source_stream_name, crawler_loop)
        definition = defaults.next(
            sfn.Choice(self, "ValidInput?").when(valid, seed.next(delivery_loop)).otherwise(invalid)
        )
        self._state_machine(definition, functions, log_retention)

    def _input_states(self) -> tuple[sfn.Chain, sfn.Condition, sfn.Fail]:
        """The input with its defaults applied, what makes it valid, and the state for an invalid one."""
        P = sfn.JsonPath
        defaults = sfn.Pass(
            self,
            "ApplyDefaults",
            comment="Defaults for the optional input fields.",
            parameters={"pollSeconds": DEFAULT_POLL_SECONDS, "maxPolls": DEFAULT_MAX_POLLS},
            result_path="$.defaults",
        )
        merge = sfn.Pass(
            self,
            "MergeInput",
            comment="The execution input wins over the defaults.",
            parameters={"args": P.json_merge(P.object_at("$.defaults"), P.object_at("$$.Execution.Input"))},
            output_path="$.args",
        )
        invalid = sfn.Fail(
            self,
            "InvalidInput",
            error="InvalidInput",
            cause="pollSeconds must be an integer number of seconds from 1 to 3600 and maxPolls an "
            'integer >= 1, e.g. {"pollSeconds": 10, "maxPolls": 90}.',
        )
        valid = sfn.Condition.and_(
            sfn.Condition.is_numeric("$.pollSeconds"),
            sfn.Condition.number_greater_than_equals("$.pollSeconds", 1),
            sfn.Condition.number_less_than_equals("$.pollSeconds", 3600),
            sfn.Condition.is_numeric("$.maxPolls"),
            sfn.Condition.number_greater_than_equals("$.maxPolls", 1),
        )

        return defaults.next(merge), valid, invalid

    def _seed(self, functions: PipelineFunctions) -> sfn.Chain:
        """Seed the table; remember when and how many, and start the poll counts."""
        P = sfn.JsonPath
        seed = tasks.LambdaInvoke(
            self,
            "Seed",
            comment="Write the data set and change set to DynamoDB; remember when and how many.",
            lambda_function=functions.seeder,
            payload=sfn.TaskInput.from_object({}),
            payload_response_only=True,
            result_selector={"startedAt": P.number_at("$.startedAt"), "written": P.number_at("$.written")},
            result_path="$.seed",
        )
        init_polls = sfn.Pass(
            self, "InitPollCounts", result=sfn.Result.from_object({"delivery": 0, "crawler": 0}), result_path="$.polls"
        )

        return seed.next(init_polls)

    def _delivery_loop(self, functions: PipelineFunctions, delivery_stream_name: str, source_stream_name: str,
                       then: sfn.IChainable) -> sfn.Chain:
        """Poll the delivery monitor until Firehose drained (then `then`) or maxPolls is reached."""
        P = sfn.JsonPath
        wait_delivery = sfn.Wait(self, "WaitForDelivery", time=sfn.WaitTime.seconds_path("$.pollSeconds"))
        check_delivery = tasks.LambdaInvoke(
            self,
            "CheckDelivery",
            comment="Since the seed started: did the expected changes enter the stream, and were all that "
            "entered read and delivered by Firehose?",
            lambda_function=functions.delivery_monitor,
            payload=sfn.TaskInput.from_object(
                {
                    "deliveryStreamName": delivery_stream_name,
                    "streamName": source_stream_name,
                    "sinceEpochMs": P.number_at("$.seed.startedAt"),
                    "expectedRecords": P.number_at("$.seed.written"),
                }
            ),
            payload_response_only=True,
            result_path="$.delivery",
        )
        count_delivery = sfn.Pass(
            self,
            "CountDeliveryPoll",
            parameters={
                "delivery": P.math_add(P.number_at("$.polls.delivery"), 1),
                "crawler": P.number_at("$.polls.crawler"),
            },
            result_path="$.polls",
        )
        delivery_timed_out = sfn.Fail(
            self,
            "DeliveryNotDrained",
            error="DeliveryNotDrained",
            cause_path=P.format(
                "{} records entered the stream ({} expected); Firehose read {} and delivered {} after {} polls; "
                "see the CloudWatch logs of the delivery stream and the errors/ prefix of the lake bucket, or raise maxPolls.",
                P.string_at("$.delivery.incoming"),
                P.string_at("$.delivery.expected"),
                P.string_at("$.delivery.read"),
                P.string_at("$.delivery.delivered"),
                P.string_at("$.polls.delivery"),
            ),
        )

        delivery_loop = wait_delivery.next(check_delivery).next(
            sfn.Choice(self, "Drained?")
            .when(sfn.Condition.boolean_equals("$.delivery.drained", True), then)
            .otherwise(
                count_delivery.next(
                    sfn.Choice(self, "TooManyDeliveryPolls?")
                    .when(sfn.Condition.number_greater_than_equals_json_path("$.polls.delivery", "$.maxPolls"), delivery_timed_out)
                    .otherwise(wait_delivery)
                )
            )
        )
        return delivery_loop

    def _crawler_loop(self, crawler_name: str, crawler_arn: str) -> sfn.Chain:
        """Start the crawler, poll it until READY (or maxPolls), end on the crawl's outcome."""
        P = sfn.JsonPath
        wait_crawler = sfn.Wait(self, "WaitForCrawler", time=sfn.WaitTime.seconds_path("$.pollSeconds"))
        get_crawler = self._crawler_call(crawler_name, crawler_arn, "GetCrawler", "getCrawler",
                                         result_selector={"Crawler": P.object_at("$.Crawler")},
                                         result_path="$.crawler")
        count_crawler = sfn.Pass(
            self,
            "CountCrawlerPoll",
            parameters={
                "delivery": P.number_at("$.polls.delivery"),
                "crawler": P.math_add(P.number_at("$.polls.crawler"), 1),
            },
            result_path="$.polls",
        )
        crawler_timed_out = sfn.Fail(
            self,
            "CrawlerNotReady",
            error="CrawlerNotReady",
            cause_path=P.format(
                "The crawler is still {} after {} polls; see its log stream in /aws-glue/crawlers, or raise maxPolls.",
                P.string_at("$.crawler.Crawler.State"),
                P.string_at("$.polls.crawler"),
            ),
        )
        crawler_loop = wait_crawler.next(get_crawler).next(
            sfn.Choice(self, "CrawlerReady?")
            .when(sfn.Condition.string_equals("$.crawler.Crawler.State", "READY"), self._crawl_outcome())
            .otherwise(
                count_crawler.next(
                    sfn.Choice(self, "TooManyCrawlerPolls?")
                    .when(sfn.Condition.number_greater_than_equals_json_path("$.polls.crawler", "$.maxPolls"), crawler_timed_out)
                    .otherwise(wait_crawler)
                )
            )
        )
        start_crawler = self._crawler_call(crawler_name, crawler_arn, "StartCrawler", "startCrawler",
                                           result_path=P.DISCARD)
        # A crawl started by someone else must finish first; back off briefly and retry.
        start_crawler.add_retry(
            errors=["Glue.CrawlerRunningException"],
            interval=cdk.Duration.seconds(15),
            backoff_rate=2,
            max_attempts=5,
        )
        return start_crawler.next(crawler_loop)

    def _crawler_call(self, crawler_name: str, crawler_arn: str, state_id: str, action: str,
                      **result: Any) -> tasks.CallAwsService:
        """A Glue API call on the crawler (the role gets exactly that action on it)."""
        return tasks.CallAwsService(
            self,
            state_id,
            service="glue",
            action=action,
            parameters={"Name": crawler_name},
            iam_resources=[crawler_arn],
            iam_action=f"glue:{action[0].upper()}{action[1:]}",
            **result,
        )

    def _crawl_outcome(self) -> sfn.Choice:
        """After the crawler is READY: succeed with a summary only if its last crawl SUCCEEDED."""
        P = sfn.JsonPath
        crawl_failed = sfn.Fail(
            self,
            "CrawlFailed",
            error="CrawlFailed",
            cause_path=P.string_at("$.crawler.Crawler.LastCrawl.ErrorMessage"),
        )
        crawl_failed_silently = sfn.Fail(
            self,
            "CrawlFailedWithoutMessage",
            error="CrawlFailed",
            cause="The crawl did not succeed and left no error message; see the log stream of the crawler in /aws-glue/crawlers.",
        )
        summary = sfn.Pass(
            self,
            "Summary",
            parameters={
                "written": P.number_at("$.seed.written"),
                "delivery": P.object_at("$.delivery"),
                "lastCrawl": P.object_at("$.crawler.Crawler.LastCrawl"),
            },
        )
        return (
            sfn.Choice(self, "CrawlSucceeded?")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.crawler.Crawler.LastCrawl.Status"),
                    sfn.Condition.string_equals("$.crawler.Crawler.LastCrawl.Status", "SUCCEEDED"),
                ),
                summary.next(sfn.Succeed(self, "Done")),
            )
            .when(sfn.Condition.is_present("$.crawler.Crawler.LastCrawl.ErrorMessage"), crawl_failed)
            .otherwise(crawl_failed_silently)
        )

    def _state_machine(self, definition: sfn.IChainable, functions: PipelineFunctions,
                       log_retention: logs.RetentionDays) -> None:
        stack = cdk.Stack.of(self)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # The vendedlogs prefix keeps CloudWatch Logs' resource policy small (AWS recommends it
            # for Step Functions log groups).
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-pipeline",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="Seed the table, wait until Firehose delivered every change, crawl, wait for the crawler.",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            timeout=cdk.Duration.hours(2),
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5",
            "Step Functions' Lambda integration grants invoking the function and its versions and "
            "aliases (':*'); only the seeder and the delivery monitor.",
            applies_to=[arn_finding(functions.seeder, ":*"), arn_finding(functions.delivery_monitor, ":*")],
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5",
            "X-Ray (tracing) and CloudWatch Logs vended-log-delivery actions (execution logging) "
            "support no resource-level permissions; IAM requires Resource '*' for them.",
            applies_to=["Resource::*"],
        )
