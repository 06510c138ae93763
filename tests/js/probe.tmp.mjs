import { IAMClient, GetAccountAuthorizationDetailsCommand, SimulatePrincipalPolicyCommand, CreateUserCommand, PutUserPolicyCommand, GetUserPolicyCommand, ListPoliciesCommand, GetAccountSummaryCommand } from "@aws-sdk/client-iam";
import { EC2Client, DescribeVpcsCommand, CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, ModifySecurityGroupRulesCommand, RevokeSecurityGroupIngressCommand, DescribeAccountAttributesCommand, DescribeAvailabilityZonesCommand } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client, CreateLoadBalancerCommand, CreateListenerCommand, CreateRuleCommand, DescribeRulesCommand, CreateTargetGroupCommand, DescribeLoadBalancerAttributesCommand, ModifyLoadBalancerAttributesCommand, DescribeTargetGroupAttributesCommand, ModifyListenerCommand, SetRulePrioritiesCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ECSClient, ListServiceDeploymentsCommand, CreateClusterCommand, DescribeClustersCommand, PutAccountSettingCommand, ListAccountSettingsCommand } from "@aws-sdk/client-ecs";
import { CloudTrailClient, PutEventSelectorsCommand, GetEventSelectorsCommand, CreateTrailCommand } from "@aws-sdk/client-cloudtrail";
import { config, unique } from "./support.mjs";
const iam = new IAMClient(config()), ec2 = new EC2Client(config()), elb = new ElasticLoadBalancingV2Client(config()), ecs = new ECSClient(config()), ct = new CloudTrailClient(config());
async function t(name, f) { try { const r = await f(); delete r.$metadata; console.log(name, "OK", JSON.stringify(r).slice(0, 700)); } catch (e) { console.log(name, "ERR", e.name, e.message, e.$metadata?.httpStatusCode); } }
const un = unique("u");
await iam.send(new CreateUserCommand({UserName: un}));
await iam.send(new PutUserPolicyCommand({UserName: un, PolicyName: "p", PolicyDocument: JSON.stringify({Version:"2012-10-17",Statement:[{Effect:"Allow",Action:"s3:GetObject",Resource:"*",Condition:{StringEquals:{"aws:PrincipalTag/team":"a"}}}]})}));
await t("gaad", () => iam.send(new GetAccountAuthorizationDetailsCommand({Filter: ["User"], MaxItems: 2})));
await t("simulate", () => iam.send(new SimulatePrincipalPolicyCommand({PolicySourceArn: `arn:aws:iam::000000000000:user/${un}`, ActionNames: ["s3:GetObject"], ContextEntries: [{ContextKeyName: "aws:PrincipalTag/team", ContextKeyType: "string", ContextKeyValues: ["a"]}]})));
await t("summary", () => iam.send(new GetAccountSummaryCommand({})));
await t("list policies", () => iam.send(new ListPoliciesCommand({Scope: "AWS", MaxItems: 2, OnlyAttached: false})));
const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs[0].VpcId;
const g1 = await ec2.send(new CreateSecurityGroupCommand({GroupName: unique("g"), Description: "d", VpcId: vpc}));
const g2 = await ec2.send(new CreateSecurityGroupCommand({GroupName: unique("g"), Description: "d", VpcId: vpc}));
await t("authorize complex", () => ec2.send(new AuthorizeSecurityGroupIngressCommand({GroupId: g1.GroupId, IpPermissions: [
  {IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{CidrIp: "10.0.0.0/8", Description: "ten"}], Ipv6Ranges: [{CidrIpv6: "::/0", Description: "v6"}], UserIdGroupPairs: [{GroupId: g2.GroupId, Description: "peer"}]},
  {IpProtocol: "icmp", FromPort: -1, ToPort: -1, IpRanges: [{CidrIp: "0.0.0.0/0"}]}],
  TagSpecifications: [{ResourceType: "security-group-rule", Tags: [{Key: "r", Value: "1"}]}]})));
await t("describe sg", () => ec2.send(new DescribeSecurityGroupsCommand({GroupIds: [g1.GroupId]})));
await t("sg rules", () => ec2.send(new DescribeSecurityGroupRulesCommand({Filters: [{Name: "group-id", Values: [g1.GroupId]}], MaxResults: 5})));
await t("acct attrs", () => ec2.send(new DescribeAccountAttributesCommand({AttributeNames: ["supported-platforms", "default-vpc"]})));
await t("azs", () => ec2.send(new DescribeAvailabilityZonesCommand({ZoneNames: ["us-east-1a"]})));
const subnets = ["us-east-1a","us-east-1b"];
const lb = (await elb.send(new CreateLoadBalancerCommand({Name: unique("lb").slice(-32), Subnets: (await (await import("@aws-sdk/client-ec2")).EC2Client.prototype.send.call(ec2, new (await import("@aws-sdk/client-ec2")).DescribeSubnetsCommand({}))).Subnets.slice(0,2).map(s=>s.SubnetId)}))).LoadBalancers[0];
const tg = (await elb.send(new CreateTargetGroupCommand({Name: unique("tg").slice(-32), Protocol: "HTTP", Port: 80, VpcId: vpc, Matcher: {HttpCode: "200-299"}}))).TargetGroups[0];
const l = (await elb.send(new CreateListenerCommand({LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 80, DefaultActions: [{Type: "redirect", RedirectConfig: {Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}]}))).Listeners[0];
await t("listener", async () => l);
await t("rule complex", () => elb.send(new CreateRuleCommand({ListenerArn: l.ListenerArn, Priority: 5, Conditions: [
  {Field: "host-header", HostHeaderConfig: {Values: ["a.example.com", "*.b.example.com"]}},
  {Field: "query-string", QueryStringConfig: {Values: [{Key: "v", Value: "1"}, {Value: "x*"}]}},
  {Field: "source-ip", SourceIpConfig: {Values: ["10.0.0.0/8"]}},
  {Field: "http-request-method", HttpRequestMethodConfig: {Values: ["GET", "HEAD"]}}],
  Actions: [{Type: "forward", Order: 1, ForwardConfig: {TargetGroups: [{TargetGroupArn: tg.TargetGroupArn, Weight: 3}], TargetGroupStickinessConfig: {Enabled: true, DurationSeconds: 60}}}],
  Tags: [{Key: "a", Value: "b"}]})));
await t("lb attrs", () => elb.send(new ModifyLoadBalancerAttributesCommand({LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{Key: "idle_timeout.timeout_seconds", Value: "120"}]})));
await t("tg attrs", () => elb.send(new DescribeTargetGroupAttributesCommand({TargetGroupArn: tg.TargetGroupArn})));
await t("ecs list deployments createdAt", async () => { const c = unique("c"); await ecs.send(new CreateClusterCommand({clusterName: c})); return ecs.send(new ListServiceDeploymentsCommand({cluster: c, service: "x", createdAt: {after: new Date(Date.now() - 1000.5), before: new Date()}})); });
await t("ecs describe clusters include", () => ecs.send(new DescribeClustersCommand({include: ["SETTINGS", "TAGS", "STATISTICS"]})));
await t("ecs account setting", () => ecs.send(new PutAccountSettingCommand({name: "serviceLongArnFormat", value: "enabled"})));
const trail = unique("t");
await ct.send(new CreateTrailCommand({Name: trail, S3BucketName: "b-1"}));
await t("advanced selectors", () => ct.send(new PutEventSelectorsCommand({TrailName: trail, AdvancedEventSelectors: [{Name: "mgmt", FieldSelectors: [{Field: "eventCategory", Equals: ["Management"]}, {Field: "readOnly", Equals: ["false"]}]}]})));
await t("get selectors", () => ct.send(new GetEventSelectorsCommand({TrailName: trail})));
