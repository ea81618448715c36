{{/* The chart's name, or nameOverride. */}}
{{- define "vmpooler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's base name for every resource (at most 50 characters, leaving room for "-manager" and the like). */}}
{{- define "vmpooler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else if contains (include "vmpooler.name" .) .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "vmpooler.name" .) | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "vmpooler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "vmpooler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (api, manager, redis): call with (dict "root" $ "component" "api"). */}}
{{- define "vmpooler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vmpooler.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vmpooler.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "vmpooler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vmpooler.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the Redis password, and its key. */}}
{{- define "vmpooler.redisSecretName" -}}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.existingSecret }}
{{- .Values.externalRedis.existingSecret }}
{{- else }}
{{- include "vmpooler.fullname" . }}-redis
{{- end }}
{{- end }}

{{- define "vmpooler.redisSecretKey" -}}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.existingSecret }}
{{- .Values.externalRedis.existingSecretPasswordKey }}
{{- else -}}
redis-password
{{- end }}
{{- end }}

{{/* Whether vmpooler is given a Redis password at all. */}}
{{- define "vmpooler.redisHasPassword" -}}
{{- if or .Values.redis.enabled .Values.externalRedis.existingSecret .Values.externalRedis.password }}true{{ end }}
{{- end }}

{{- define "vmpooler.redisServer" -}}
{{- if .Values.redis.enabled }}
{{- include "vmpooler.fullname" . }}-redis
{{- else }}
{{- required "externalRedis.server is required when redis.enabled is false" .Values.externalRedis.server }}
{{- end }}
{{- end }}

{{/*
The container of one role (api or manager): upstream's arguments and environment variables. Call with
(dict "root" $ "role" "api" "settings" .Values.api).
*/}}
{{- define "vmpooler.container" -}}
{{- $root := .root -}}
- name: {{ .role }}
  image: {{ include "vmpooler.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args: [{{ .role | quote }}]
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  ports:
    - name: http
      containerPort: {{ $root.Values.service.port }}
      protocol: TCP
  env:
    - name: PORT
      value: {{ $root.Values.service.port | quote }}
    - name: VMPOOLER_CONFIG_FILE
      value: /etc/vmpooler/vmpooler.yaml
    - name: EXTRA_CONFIG
      value: {{ join "," (compact (list "/etc/vmpooler/config/pools.yaml" $root.Values.additionalConfigFiles)) | quote }}
    - name: LOGFILE
      value: /dev/stdout
    - name: REDIS_SERVER
      value: {{ include "vmpooler.redisServer" $root | quote }}
    - name: REDIS_PORT
      value: {{ ternary 6379 $root.Values.externalRedis.port $root.Values.redis.enabled | quote }}
    {{- if include "vmpooler.redisHasPassword" $root }}
    - name: REDIS_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "vmpooler.redisSecretName" $root }}
          key: {{ include "vmpooler.redisSecretKey" $root }}
    {{- end }}
    {{- with $root.Values.externalRedis.keyPrefix }}
    - name: REDIS_KEY_PREFIX
      value: {{ . | quote }}
    {{- end }}
    - name: USAGE_STATS
      value: {{ $root.Values.usage_stats | quote }}
    - name: VMPOOLER_TRACING_ENABLED
      value: {{ $root.Values.tracing.enabled | quote }}
    {{- with $root.Values.tracing.jaegerHost }}
    - name: VMPOOLER_TRACING_JAEGER_HOST
      value: {{ . | quote }}
    {{- end }}
    {{- range $name, $value := .settings.env }}
    - name: {{ $name }}
      value: {{ $value | quote }}
    {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /readyz
      port: http
    periodSeconds: 5
    timeoutSeconds: 4
    failureThreshold: 3
  startupProbe:
    httpGet:
      path: /healthz
      port: http
    periodSeconds: 2
    failureThreshold: 30
  resources:
    {{- toYaml .settings.resources | nindent 4 }}
  volumeMounts:
    - name: base-config
      mountPath: /etc/vmpooler/vmpooler.yaml
      subPath: vmpooler.yaml
      readOnly: true
    - name: pools-config
      mountPath: /etc/vmpooler/config
      readOnly: true
    - name: tmp
      mountPath: /tmp
    {{- with $root.Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* The pod-level settings shared by the API and the manager. */}}
{{- define "vmpooler.podSpec" -}}
serviceAccountName: {{ include "vmpooler.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: base-config
    configMap:
      name: {{ .Values.configmapName }}
      items:
        - key: vmpooler.yaml
          path: vmpooler.yaml
  - name: pools-config
    configMap:
      name: {{ .Values.poolsConfigMapName }}
      items:
        - key: pools.yaml
          path: pools.yaml
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: 64Mi
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
