# fish completion for dim(1), the Decentralized Inference Machine.
# Installed into share/fish/vendor_completions.d; or copy to ~/.config/fish/completions/.

set -l dim_commands orchestrator daemon submit status result ls cancel health model cert audit

# The command line's words before the cursor that are not options nor their values: the
# command, its sub-command, its arguments.
function __dim_found
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l found
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $t
            case '--*=*'
            case --server -o --output --log-level --log-format --metrics-listen --local-db --models --local-node --rpc-timeout \
                    --listen --db --node --nodes-file --workers --max-queued-jobs --heartbeat-timeout --node-id --dataset --label \
                    --device --orchestrator --advertise --max-concurrent-jobs --max-queued --abandon-after --min-samples -p --pattern -c \
                    --config --config-json --input-data -m --model --nodes --columns --aggregation --min-nodes \
                    --trim --dp-epsilon --dp-clip \
                    --consensus --weights --min-agreement \
                    --priority --user --timeout --state -n --limit --offset \
                    --model-store --max-model-bytes --cache-max-bytes --name \
                    --tls-ca --tls-cert --tls-key --token --token-file --profile --tls-client-ca --node-token --auth-tokens \
                    --rate-limit --rate-burst --audit-log --max-message-bytes --max-config-bytes --max-nodes-per-job --role --dns --ip --days \
                    --who --method --job --since --policy --ledger --local-policy --wait-nodes
                set skip 1
            case '-*'
            case '*'
                set -a found $t
        end
    end
    printf '%s\n' $found
end

# True when the command line's command is $argv[1] (and, with a second argument, its
# sub-command is $argv[2]).
function __dim_is
    set -l found (__dim_found)
    test (count $found) -ge (count $argv); or return 1
    for i in (seq (count $argv))
        test "$found[$i]" = "$argv[$i]"; or return 1
    end
end

# True when no command has been given yet.
function __dim_no_command
    not __dim_is orchestrator; and not __dim_is daemon; and not __dim_is submit; and not __dim_is status; and not __dim_is result; and not __dim_is ls; and not __dim_is cancel; and not __dim_is health; and not __dim_is model; and not __dim_is cert; and not __dim_is audit
end

# Model names (NAME of DIR/NAME.onnx) in the models folder named on the line, or
# $DIM_MODELS, or ./models.
function __dim_models
    set -l dir models
    set -q DIM_MODELS; and set dir $DIM_MODELS
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --models
                set -l j (math $i + 1)
                set -q tokens[$j]; and set dir $tokens[$j]
            case '--models=*'
                set dir (string replace -- --models= '' $tokens[$i])
        end
    end
    for f in $dir/*.onnx
        string replace -r '\.onnx$' '' (basename $f)
    end
end

# The options of the line that say which server to ask, and how (or --local and its
# nodes), one word a line, for __dim_ask.
function __dim_conn_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l i 1
    while test $i -le (count $tokens)
        set -l t $tokens[$i]
        switch $t
            case --server --local-db --local-node --local-policy --models --tls-ca --tls-cert --tls-key --token --token-file --profile
                set -l j (math $i + 1)
                if set -q tokens[$j]
                    printf '%s\n' $t (string replace -r '^~' $HOME -- $tokens[$j])
                end
                set i $j
            case '--server=*' '--local-db=*' '--local-node=*' '--local-policy=*' '--models=*' '--tls-ca=*' '--tls-cert=*' \
                    '--tls-key=*' '--token=*' '--token-file=*' '--profile=*' --local
                printf '%s\n' $t
        end
        set i (math $i + 1)
    end
end

# Runs `dim -o json ARGS...` against the server of the line (the dim the line names, with its
# --server, TLS, token and --local options), quietly and briefly: it never prints an error
# and gives up after 2 seconds.
function __dim_ask
    set -l dim (string replace -r '^~' $HOME -- (commandline -opc)[1])
    command -sq $dim; or test -x "$dim"; or return 0
    set -l conn (__dim_conn_args)
    set -l limit
    command -sq timeout; and set limit timeout 2
    $limit $dim $conn -o json --rpc-timeout 1 --log-level off $argv </dev/null 2>/dev/null
end

# The strings dim's JSON gives for "KEY": "value", and those of a "KEY": [...] array.
function __dim_json_strings
    awk -v key="\"$argv[1]\":" '
        inarray && /^ *\]/ { inarray = 0; next }
        inarray { v = $0; sub(/^ *"/, "", v); sub(/",?$/, "", v); print v; next }
        $1 == key && $2 == "[" { inarray = 1; next }
        $1 == key && $2 ~ /^"/ { v = $0; sub(/^[^"]*"[^"]*": *"/, "", v); sub(/",?$/, "", v); print v }
    '
end

# The server's jobs, newest first (dim cancel: only those still pending or running), while
# the command has no job yet.
function __dim_jobs
    test (count (__dim_found)) -eq 1; or return
    if __dim_is cancel
        __dim_ask ls -n 50 | awk '
            /^ *"job_id": "/ { id = $0; sub(/^ *"job_id": "/, "", id); sub(/",?$/, "", id) }
            /^ *"state": "(PENDING|RUNNING)"/ { print id }'
    else
        __dim_ask ls -n 50 | __dim_json_strings job_id
    end
end

# The server's nodes, their datasets, and its models (dim health, dim model ls).
function __dim_nodes
    __dim_ask health | __dim_json_strings node_id | sort -u
end
function __dim_datasets
    __dim_ask health | awk '
        function indent(s) { match(s, /^ */); return RLENGTH }
        /"datasets": \[$/ { ds = indent($0); next }
        ds && indent($0) == ds && /^ *\]/ { ds = 0; next }
        ds && indent($0) == ds + 4 && /^ *"name": "/ { v = $0; sub(/^ *"name": "/, "", v); sub(/",?$/, "", v); print v }
    ' | sort -u
end
function __dim_server_models
    begin
        __dim_ask model ls | __dim_json_strings name
        __dim_ask health | __dim_json_strings models
    end | sort -u
end

# The words on standard input as the items of a comma-separated list: each after the items
# the current token already holds.
function __dim_list_items
    set -l head (string replace -r '^-[^=]*=' '' -- (commandline -ct) | string replace -r '[^,]*$' '')
    while read -l w
        echo $head$w
    end
end

# The profiles ([profiles.NAME]) of the client's config file.
function __dim_profiles
    set -l file ~/.config/dim/config.toml
    set -q XDG_CONFIG_HOME; and set file $XDG_CONFIG_HOME/dim/config.toml
    set -q DIM_CONFIG; and set file $DIM_CONFIG
    test -f $file; or return
    string replace -rf '^\s*\[\s*profiles\.([A-Za-z0-9_-]+)\s*\].*' '$1' <$file
end

complete -c dim -f

# Commands and serve sub-commands.
complete -c dim -n __dim_no_command -a orchestrator -d 'The orchestrator service'
complete -c dim -n __dim_no_command -a daemon -d 'The daemon service of a node'
complete -c dim -n __dim_no_command -a submit -d 'Submit a job'
complete -c dim -n __dim_no_command -a status -d "Show a job's state, progress and nodes"
complete -c dim -n __dim_no_command -a result -d "Show a finished job's result"
complete -c dim -n __dim_no_command -a ls -d 'List jobs, newest first'
complete -c dim -n __dim_no_command -a cancel -d 'Cancel a pending or running job'
complete -c dim -n __dim_no_command -a health -d 'Show the orchestrator and its nodes'
complete -c dim -n '__dim_is orchestrator; and not __dim_is orchestrator serve' -a serve -d 'Run the orchestrator in the foreground'
complete -c dim -n '__dim_is daemon; and not __dim_is daemon serve' -a serve -d "Run a node's daemon in the foreground"
complete -c dim -n __dim_no_command -a model -d "Models: push to the orchestrator's store, list them"
complete -c dim -n '__dim_is model; and not __dim_is model push; and not __dim_is model ls' -a push -d 'Check an ONNX file and store it under a name'
complete -c dim -n '__dim_is model; and not __dim_is model push; and not __dim_is model ls' -a ls -d 'List the stored models'
complete -c dim -n __dim_no_command -a cert -d 'Make and read certificates (a CA, and what it signs)'
complete -c dim -n __dim_no_command -a audit -d "Read an orchestrator's audit log"
set -l cert_sub 'not __dim_is cert init; and not __dim_is cert issue; and not __dim_is cert show'
complete -c dim -n "__dim_is cert; and $cert_sub" -a init -d 'Make a CA in DIR'
complete -c dim -n "__dim_is cert; and $cert_sub" -a issue -d "Sign a certificate with DIR's CA"
complete -c dim -n "__dim_is cert; and $cert_sub" -a show -d "Print a certificate's name, role, SANs, issuer and expiry"

# Global options (before or after the command).
complete -c dim -s h -l help -d 'Print help and exit'
complete -c dim -l version -d 'Print the version and exit'
complete -c dim -l server -x -d 'Orchestrator address HOST:PORT'
complete -c dim -s o -l output -x -a 'table json' -d 'Output format'
complete -c dim -l log-level -x -a 'trace debug info warn error off' -d 'Log level'
complete -c dim -l log-format -x -a 'text json' -d 'Log lines as text, or one JSON object a line'
complete -c dim -l local -d 'Run the engine in-process, no servers'
complete -c dim -l local-db -r -F -d 'Job file for --local'
complete -c dim -n 'not __dim_is daemon' -l models -x -a '(__fish_complete_directories)' -d 'Model folder for --local (NAME.onnx)'
complete -c dim -l local-node -r -F -d 'In-process node: ID=CSV or ID:DATASET=CSV'
complete -c dim -l rpc-timeout -x -d 'Deadline of each call to the orchestrator, in seconds'
complete -c dim -n 'not __dim_is orchestrator serve; and not __dim_is daemon serve' -l tls-ca -r -F -d 'CA that verifies the orchestrator: connect over TLS'
complete -c dim -l tls-cert -r -F -d 'Certificate (PEM): of this client, or of the service'
complete -c dim -l tls-key -r -F -d 'The private key (PEM) of --tls-cert'
complete -c dim -l token -x -d 'Bearer token (prefer DIM_TOKEN)'
complete -c dim -l token-file -r -F -d 'File whose first line is the bearer token'
complete -c dim -l profile -x -a '(__dim_profiles)' -d "Profile of the client's config file"

# Security of both services
set -l serve '__dim_is orchestrator serve; or __dim_is daemon serve'
complete -c dim -n $serve -l config -r -F -d "Read this command's options from a TOML file"
complete -c dim -n $serve -l tls-client-ca -r -F -d 'Verify client certificates against this CA (mutual TLS)'
complete -c dim -n $serve -l tls-ca -r -F -d 'CA that verifies the other service'
complete -c dim -n $serve -l insecure -d 'Allow a non-loopback --listen without TLS'
complete -c dim -n $serve -l node-token -r -F -d 'File of a secret shared by orchestrator and daemons'
complete -c dim -n '__dim_is daemon serve' -l policy -r -F -d "The site's policy for its datasets (JSON; re-read on SIGHUP)"
complete -c dim -n '__dim_is daemon serve; or __dim_is daemon ledger' -l ledger -r -F -d 'SQLite ledger of every release'
complete -c dim -n '__dim_is daemon; and not __dim_is daemon serve; and not __dim_is daemon ledger' -a ledger -d "Print a node's ledger"
complete -c dim -n '__dim_is daemon ledger' -a verify -d "Recompute the ledger's hash chain"
complete -c dim -n '__dim_is daemon ledger' -l since -x -d 'Only entries at or after this time'
complete -c dim -n '__dim_is daemon ledger' -l dataset -x -d 'Only entries of this dataset'
complete -c dim -l local-policy -x -d 'A site policy for a --local node: ID=FILE'
complete -c dim -n '__dim_is submit' -l dry-run -d 'Ask the nodes whether they would accept the job; run nothing'
complete -c dim -n '__dim_is orchestrator serve' -l auth-tokens -r -F -d 'Users: TOKEN USER ROLE lines; re-read on SIGHUP'
complete -c dim -n '__dim_is orchestrator serve' -l rate-limit -x -d 'Calls each user may make: N/s or N/m'
complete -c dim -n '__dim_is orchestrator serve' -l rate-burst -x -d 'Calls a user may make at once'
complete -c dim -n '__dim_is orchestrator serve' -l audit-log -r -F -d 'Append a JSON line per state-changing or refused call'
complete -c dim -n '__dim_is orchestrator serve' -l max-message-bytes -x -d 'Largest request message (e.g. 16M)'
complete -c dim -n '__dim_is orchestrator serve' -l max-config-bytes -x -d 'Largest job config (e.g. 1M)'
complete -c dim -n '__dim_is orchestrator serve' -l max-nodes-per-job -x -d 'Most nodes one job may run on'

# dim cert, dim audit
complete -c dim -n '__dim_is cert init' -l name -x -d "The CA's name"
complete -c dim -n '__dim_is cert init; or __dim_is cert issue' -l days -x -d 'Days it is valid'
complete -c dim -n '__dim_is cert issue' -l role -x -a 'orchestrator node user admin' -d 'The role (OU)'
complete -c dim -n '__dim_is cert issue' -l dns -x -d 'A DNS name of the service'
complete -c dim -n '__dim_is cert issue' -l ip -x -d 'An IP address of the service'
complete -c dim -n '__dim_is cert init; or __dim_is cert issue; or __dim_is cert show; or __dim_is audit' -F
complete -c dim -n '__dim_is audit' -l who -x -d 'Only entries of this identity'
complete -c dim -n '__dim_is audit' -l method -x -a 'SubmitJob CancelJob GetJobStatus GetJobResult ListJobs WatchJob RegisterNode Heartbeat ListNodes PushModel ListModels FetchModel Execute' -d 'Only this call'
complete -c dim -n '__dim_is audit' -l job -x -d 'Only entries of this job'
complete -c dim -n '__dim_is audit' -l since -x -d 'Only entries at or after this time (ISO 8601)'
complete -c dim -n '__dim_is audit' -l refused -d 'Only refused calls'
complete -c dim -n '__dim_is audit' -l limit -x -d 'The last N matching entries (0: all)'

# dim orchestrator serve
set -l orch '__dim_is orchestrator serve'
complete -c dim -n $orch -l listen -x -d 'Address to listen on (port 0: any free port)'
complete -c dim -n $orch -l metrics-listen -x -d 'Serve Prometheus metrics on HOST:PORT'
complete -c dim -n $orch -l db -r -F -d 'SQLite file that keeps the jobs'
complete -c dim -n $orch -l node -x -d 'A static node: ID=HOST:PORT'
complete -c dim -n $orch -l nodes-file -r -F -d 'A file of static nodes, ID=HOST:PORT per line'
complete -c dim -n $orch -l max-concurrent-jobs -l workers -x -d 'Jobs run at once'
complete -c dim -n $orch -l max-queued-jobs -x -d 'Jobs waiting before new ones are refused'
complete -c dim -n $orch -l heartbeat-timeout -x -d 'Seconds without a heartbeat before a node is inactive'
complete -c dim -n $orch -l model-store -x -a '(__fish_complete_directories)' -d 'Folder of the pushed models'
complete -c dim -n $orch -l max-model-bytes -x -d 'Largest model a push may send (e.g. 512M)'

# dim daemon serve
set -l dmn '__dim_is daemon serve'
complete -c dim -n $dmn -l node-id -x -d "This node's id"
complete -c dim -n $dmn -l listen -x -d 'Address to listen on (port 0: any free port)'
complete -c dim -n $dmn -l metrics-listen -x -d 'Serve Prometheus metrics on HOST:PORT'
complete -c dim -n $dmn -l dataset -r -F -d 'A dataset this node owns: NAME=PATH to a CSV file'
complete -c dim -n '__dim_is daemon' -l models -x -a '(__fish_complete_directories)' -d 'Model folder: NAME.onnx serves model NAME'
complete -c dim -n $dmn -l device -x -a 'cpu cuda' -d 'Where models run: cpu, or cuda (a GPU)'
complete -c dim -n $dmn -l orchestrator -x -d 'Orchestrator to register with (HOST:PORT)'
complete -c dim -n $dmn -l advertise -x -d 'Address the orchestrator should dial'
complete -c dim -n $dmn -l label -x -d 'A label for node selection: KEY=VALUE'
complete -c dim -n $dmn -l max-concurrent-jobs -x -d 'Tasks run at once'
complete -c dim -n $dmn -l max-queued -x -d 'Tasks waiting before new ones are refused'
complete -c dim -n $dmn -l abandon-after -x -d 'Cancel a task its orchestrator stopped following this many seconds ago'
complete -c dim -n $dmn -l min-samples -x -d 'Refuse collaborative tasks and chained dataset steps on datasets with fewer rows'
complete -c dim -n $dmn -l cache-max-bytes -x -d 'Keep fetched models within this size (e.g. 500M; 0: no limit)'

# dim submit
set -l sub '__dim_is submit'
complete -c dim -n $sub -s p -l pattern -x -a 'collaborative comparative chained' -d 'Job pattern'
complete -c dim -n $sub -s c -l config -r -F -d 'Job config JSON file, or - for stdin'
complete -c dim -n $sub -l config-json -x -d 'Job config as a JSON string'
complete -c dim -n $sub -l input-data -r -F -d 'Chained: rows for client_data steps, CSV with a header (or - for stdin) or .npy'
complete -c dim -n $sub -s m -l model -x -a '(begin; __dim_server_models; __dim_models; end | sort -u | __dim_list_items)' -d 'Model id (comparative: repeat, or comma-separated)'
complete -c dim -n $sub -l nodes -x -a '(__dim_nodes | __dim_list_items)' -d 'Node ids, comma-separated'
complete -c dim -n $sub -l node -x -a '(__dim_nodes)' -d 'Comparative: the node that holds the data'
complete -c dim -n $sub -l dataset -x -a '(__dim_datasets)' -d 'Dataset name on the nodes'
complete -c dim -n $sub -l columns -x -d 'Feature columns, comma-separated'
complete -c dim -n $sub -l aggregation -x -a 'federated_averaging weighted_average median trimmed_mean' -d 'Collaborative aggregation method'
complete -c dim -n $sub -l trim -x -d 'trimmed_mean: fraction of nodes dropped from each end'
complete -c dim -n $sub -l dp-epsilon -x -d 'Differential privacy budget per node'
complete -c dim -n $sub -l dp-clip -x -d 'Differential privacy: clip outputs to LO,HI'
complete -c dim -n $sub -l min-nodes -x -d 'Quorum of nodes that must succeed'
complete -c dim -n $sub -l consensus -x -a 'majority_vote weighted_vote average unanimous expert_review' -d 'Comparative consensus method'
complete -c dim -n $sub -l weights -x -d 'weighted_vote: one per model; weighted_average: one per node; comma-separated'
complete -c dim -n $sub -l min-agreement -x -d 'expert_review: flag rows below this agreement (0 to 1)'
complete -c dim -n $sub -l priority -x -a 'low normal high' -d 'Job priority'
complete -c dim -n $sub -l user -x -a '(__fish_complete_users)' -d 'User id recorded with the job'
complete -c dim -n $sub -s w -l wait -d 'Follow the job until it ends'
complete -c dim -n $sub -l timeout -x -d 'With --wait: give up after this many seconds'
complete -c dim -n $sub -s q -l quiet -d 'Print only the job id'

complete -c dim -n '__dim_is result' -l rows-out -r -F -d "Write a pipeline's output rows to FILE (.npy or CSV)"
# dim status|result|cancel JOB
complete -c dim -n '__dim_is status; or __dim_is result; or __dim_is cancel' -a '(__dim_jobs)' -d 'Job'

# dim status
complete -c dim -n '__dim_is status' -s w -l watch -d 'Follow the job until it ends'
complete -c dim -n '__dim_is status' -l events -d "Show the job's timeline"
complete -c dim -n '__dim_is status' -l timeout -x -d 'With --watch: give up after this many seconds'

# dim ls
set -l ls '__dim_is ls'
complete -c dim -n $ls -l state -x -a 'pending running completed failed cancelled' -d 'Only jobs in this state'
complete -c dim -n $ls -l user -x -a '(__fish_complete_users)' -d "Only this user's jobs"
complete -c dim -n $ls -s n -l limit -x -d 'Jobs per page'
complete -c dim -n $ls -l offset -x -d 'Jobs to skip'

# dim health
complete -c dim -n '__dim_is health' -l node -x -a '(__dim_nodes)' -d 'Only this node'
complete -c dim -n '__dim_is health' -l wait-nodes -x -d 'Wait until this many nodes are active'
complete -c dim -n '__dim_is health' -l timeout -x -d 'With --wait-nodes: give up after this many seconds'

# dim model push FILE, dim model ls
complete -c dim -n '__dim_is model push' -s n -l name -x -d "The model's name, as jobs give it"
complete -c dim -n '__dim_is model push' -F -d 'ONNX file'
