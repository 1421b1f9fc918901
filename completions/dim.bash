# bash completion for dim(1), the Decentralized Inference Machine.
# Installed as share/bash-completion/completions/dim; or: source completions/dim.bash

# Options that take a value (global, and of every command).
_dim_global_value_opts='--server -o --output --log-level --log-format --local-db --models --local-node --local-policy --rpc-timeout --tls-ca --tls-cert --tls-key --token --token-file --profile'
_dim_global_flag_opts='-h --help --version --local'

_dim_value_opts() {
    case $1 in
        orchestrator) echo '--config --listen --metrics-listen --db --node --nodes-file --max-concurrent-jobs --workers --max-queued-jobs --heartbeat-timeout --model-store --max-model-bytes --tls-cert --tls-key --tls-client-ca --tls-ca --node-token --auth-tokens --rate-limit --rate-burst --audit-log --max-message-bytes --max-config-bytes --max-nodes-per-job' ;;
        daemon) echo '--config --node-id --listen --metrics-listen --dataset --models --device --orchestrator --advertise --label --max-concurrent-jobs --max-queued --abandon-after --min-samples --cache-max-bytes --tls-cert --tls-key --tls-client-ca --tls-ca --node-token --policy --ledger --since' ;;
        submit) echo '-p --pattern -c --config --config-json --input-data -m --model --nodes --node --dataset --columns --aggregation --trim --dp-epsilon --dp-clip --min-nodes --consensus --weights --min-agreement --priority --user --timeout' ;;
        ls) echo '--state --user -n --limit --offset' ;;
        status) echo '--timeout' ;;
        result) echo '--rows-out' ;;
        health) echo '--node --wait-nodes --timeout' ;;
        model) echo '-n --name' ;;
        cert) echo '--role --dns --ip --days --name' ;;
        audit) echo '--who --method --job --since --limit' ;;
    esac
}

_dim_flag_opts() {
    case $1 in
        submit) echo '-w --wait -q --quiet --dry-run' ;;
        status) echo '-w --watch --events' ;;
        orchestrator | daemon) echo '--insecure' ;;
        audit) echo '--refused' ;;
    esac
}

# Model names (NAME of DIR/NAME.onnx) in the models folder named on the line, or
# $DIM_MODELS, or ./models.
_dim_model_names() {
    local dir=${DIM_MODELS:-models} i f
    for ((i = 1; i < ${#_dim_words[@]} - 1; i++)); do
        case ${_dim_words[i]} in
            --models) dir=${_dim_words[i + 1]} ;;
            --models=*) dir=${_dim_words[i]#--models=} ;;
        esac
    done
    dir=${dir/#\~/$HOME}
    for f in "$dir"/*.onnx; do
        [[ -e $f ]] || continue
        f=${f##*/}
        echo "${f%.onnx}"
    done
}

# The profiles ([profiles.NAME]) of the client's config file.
_dim_profile_names() {
    local file=${DIM_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/dim/config.toml}
    [[ -f $file ]] || return
    sed -n 's/^[[:space:]]*\[[[:space:]]*profiles\.\([A-Za-z0-9_-]*\)[[:space:]]*\].*/\1/p' "$file"
}

# The options of the line that say which server to ask, and how (or --local and its
# nodes), one word a line, for _dim_ask.
_dim_conn_args() {
    local i w
    for ((i = 1; i < ${#_dim_words[@]} - 1; i++)); do
        w=${_dim_words[i]}
        case $w in
            --server | --local-db | --local-node | --local-policy | --models | --tls-ca | --tls-cert | --tls-key | --token | --token-file | --profile)
                if ((i + 1 < ${#_dim_words[@]} - 1)); then
                    printf '%s\n%s\n' "$w" "${_dim_words[i + 1]/#\~/$HOME}"
                fi
                ((i++))
                ;;
            --server=* | --local-db=* | --local-node=* | --local-policy=* | --models=* | --tls-ca=* | --tls-cert=* | --tls-key=* | --token=* | --token-file=* | --profile=* | --local)
                printf '%s\n' "$w"
                ;;
        esac
    done
}

# Runs `dim -o json ARGS...` against the server of the line (the dim the line names, with its
# --server, TLS, token and --local options), quietly and briefly: it never prints an error
# and gives up after 2 seconds.
_dim_ask() {
    local dim=${_dim_words[0]/#\~/$HOME}
    command -v "$dim" >/dev/null 2>&1 || return 0
    local -a conn=() limit=()
    mapfile -t conn < <(_dim_conn_args)
    command -v timeout >/dev/null 2>&1 && limit=(timeout 2)
    "${limit[@]}" "$dim" "${conn[@]}" -o json --rpc-timeout 1 --log-level off "$@" </dev/null 2>/dev/null
}

# The strings dim's JSON gives for "KEY": "value", and those of a "KEY": [...] array.
_dim_json_strings() {
    awk -v key="\"$1\":" '
        inarray && /^ *\]/ { inarray = 0; next }
        inarray { v = $0; sub(/^ *"/, "", v); sub(/",?$/, "", v); print v; next }
        $1 == key && $2 == "[" { inarray = 1; next }
        $1 == key && $2 ~ /^"/ { v = $0; sub(/^[^"]*"[^"]*": *"/, "", v); sub(/",?$/, "", v); print v }
    '
}

# Job ids from the server, newest first (cancel: only the jobs still pending or running).
_dim_job_ids() {
    if [[ $1 == cancel ]]; then
        _dim_ask ls -n 50 | awk '
            /^ *"job_id": "/ { id = $0; sub(/^ *"job_id": "/, "", id); sub(/",?$/, "", id) }
            /^ *"state": "(PENDING|RUNNING)"/ { print id }'
    else
        _dim_ask ls -n 50 | _dim_json_strings job_id
    fi
}

# The node ids, models and datasets the server knows (dim health, dim model ls).
_dim_node_ids() { _dim_ask health | _dim_json_strings node_id | sort -u; }
_dim_dataset_names() {
    _dim_ask health | awk '
        function indent(s) { match(s, /^ */); return RLENGTH }
        /"datasets": \[$/ { ds = indent($0); next }
        ds && indent($0) == ds && /^ *\]/ { ds = 0; next }
        ds && indent($0) == ds + 4 && /^ *"name": "/ { v = $0; sub(/^ *"name": "/, "", v); sub(/",?$/, "", v); print v }
    ' | sort -u
}
_dim_server_models() {
    { _dim_ask model ls | _dim_json_strings name; _dim_ask health | _dim_json_strings models; } | sort -u
}

# $2 completed from the words $1, where $2 may be a comma-separated list: only its last item
# is completed, the items before it kept.
_dim_list_values() {
    local words=$1 val=$2 head=''
    if [[ $val == *,* ]]; then
        head=${val%,*},
        val=${val##*,}
    fi
    compgen -W "$words" -- "$val" | while IFS= read -r w; do echo "$head$w"; done
}

# Words for the value of option $1 given the typed value $2 (before the cursor), on
# behalf of command $3; file names come back through compgen.
_dim_values() {
    local opt=$1 val=$2 cmd=$3
    case $opt in
        -p | --pattern) compgen -W 'collaborative comparative chained' -- "$val" ;;
        --priority) compgen -W 'low normal high' -- "$val" ;;
        -o | --output) compgen -W 'table json' -- "$val" ;;
        --log-level) compgen -W 'trace debug info warn error off' -- "$val" ;;
        --log-format) compgen -W 'text json' -- "$val" ;;
        --device) compgen -W 'cpu cuda' -- "$val" ;;
        --state) compgen -W 'pending running completed failed cancelled' -- "$val" ;;
        --aggregation) compgen -W 'federated_averaging weighted_average median trimmed_mean' -- "$val" ;;
        --consensus) compgen -W 'majority_vote weighted_vote average unanimous expert_review' -- "$val" ;;
        --rows-out) compgen -f -- "$val" ;;
        -c | --config | --input-data)
            # (A service's --config is a file; submit's may be - for standard input.)
            [[ $cmd != orchestrator && $cmd != daemon && (-z $val || $val == -) ]] && echo -
            compgen -f -- "$val"
            ;;
        --db | --local-db | --policy | --ledger | --tls-ca | --tls-cert | --tls-key | --tls-client-ca | --node-token | --auth-tokens | --audit-log | --token-file)
            compgen -f -- "$val" ;;
        --profile) compgen -W "$(_dim_profile_names)" -- "$val" ;;
        --role) compgen -W 'orchestrator node user admin' -- "$val" ;;
        --method) compgen -W 'SubmitJob CancelJob GetJobStatus GetJobResult ListJobs WatchJob RegisterNode Heartbeat ListNodes PushModel ListModels FetchModel Execute' -- "$val" ;;
        --models | --model-store) compgen -d -- "$val" ;;
        -m | --model)
            # The server's models (its store, and those on its nodes), and the local folder's.
            _dim_list_values "$(_dim_server_models; _dim_model_names)" "$val" | sort -u ;;
        --nodes) [[ $cmd == submit ]] && _dim_list_values "$(_dim_node_ids)" "$val" ;;
        --node) [[ $cmd == submit || $cmd == health ]] && compgen -W "$(_dim_node_ids)" -- "$val" ;;
        --dataset)
            # daemon serve: NAME=PATH (a CSV file); submit: a dataset of the nodes.
            if [[ $cmd == daemon && $val == *=* ]]; then
                local name=${val%%=*}
                compgen -f -- "${val#*=}" | while IFS= read -r f; do echo "$name=$f"; done
            elif [[ $cmd == submit ]]; then
                compgen -W "$(_dim_dataset_names)" -- "$val"
            fi
            ;;
        --local-node)
            # ID=CSV or ID:DATASET=CSV
            if [[ $val == *=* ]]; then
                local name=${val%%=*}
                compgen -f -- "${val#*=}" | while IFS= read -r f; do echo "$name=$f"; done
            fi
            ;;
    esac
}

_dim() {
    # Reassemble the words that bash split at '=' and ':' (COMP_WORDBREAKS), so that
    # "--pattern=co" and "a:b=path" are one word each; _dim_words holds words up to the
    # cursor, the last one being the word under completion.
    local -a _dim_words=()
    local i w cword=${COMP_CWORD:-0} glue=0
    for ((i = 0; i <= cword; i++)); do
        w=${COMP_WORDS[i]}
        if ((${#_dim_words[@]} > 1)) && [[ $glue == 1 || $w =~ ^[=:]+$ ]]; then
            _dim_words[-1]+=$w
        else
            _dim_words+=("$w")
        fi
        [[ $w =~ ^[=:]+$ ]] && glue=1 || glue=0
    done
    local cur=${_dim_words[-1]}
    # What readline replaces is the part of cur after the last break character that
    # bash split at; completions are given relative to it.
    local rl_cur=${COMP_WORDS[cword]}
    [[ $rl_cur =~ ^[=:]+$ ]] && rl_cur=''
    local strip=$((${#cur} - ${#rl_cur}))

    # Find the command (and serve sub-command), skipping options and their values; args
    # counts the command's arguments before the cursor.
    local cmd='' sub='' n=${#_dim_words[@]} expect_value='' args=0
    for ((i = 1; i < n - 1; i++)); do
        w=${_dim_words[i]}
        if [[ -n $expect_value ]]; then
            expect_value=''
            continue
        fi
        case $w in
            --*=*) ;;
            -*)
                if [[ " $_dim_global_value_opts $(_dim_value_opts "$cmd") " == *" $w "* ]]; then
                    expect_value=1
                fi
                ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=$w
                elif [[ ($cmd == orchestrator || $cmd == daemon || $cmd == model || $cmd == cert) && -z $sub ]]; then
                    sub=$w
                else
                    ((args++))
                fi
                ;;
        esac
    done

    local -a out=()
    local prev=${_dim_words[n - 2]}
    if [[ -n $expect_value ]]; then
        mapfile -t out < <(_dim_values "$prev" "$cur" "$cmd")
        [[ $prev == --models || $prev == --model-store || $prev == --db || $prev == --local-db || $prev == -c ||
            $prev == --tls-* || $prev == --node-token || $prev == --auth-tokens || $prev == --audit-log || $prev == --token-file ||
            $prev == --config || $prev == --input-data || $prev == --dataset || $prev == --local-node ]] &&
            compopt -o filenames 2>/dev/null
    elif [[ $cur == --*=* ]]; then
        local opt=${cur%%=*}
        mapfile -t out < <(_dim_values "$opt" "${cur#*=}" "$cmd" | sed "s|^|$opt=|")
    elif [[ $cur == -* ]]; then
        local opts="$_dim_global_value_opts $_dim_global_flag_opts"
        if [[ -n $cmd && ! (($cmd == orchestrator || $cmd == daemon || $cmd == model || $cmd == cert) && -z $sub) ]]; then
            opts+=" $(_dim_value_opts "$cmd") $(_dim_flag_opts "$cmd")"
        fi
        mapfile -t out < <(compgen -W "$opts" -- "$cur" | sort -u)
    elif [[ -z $cmd ]]; then
        mapfile -t out < <(compgen -W 'orchestrator daemon submit status result ls cancel health model cert audit' -- "$cur")
    elif [[ $cmd == orchestrator && -z $sub ]]; then
        mapfile -t out < <(compgen -W 'serve' -- "$cur")
    elif [[ $cmd == daemon && -z $sub ]]; then
        mapfile -t out < <(compgen -W 'serve ledger' -- "$cur")
    elif [[ $cmd == daemon && $sub == ledger ]]; then
        mapfile -t out < <(compgen -W 'verify' -- "$cur")
    elif [[ $cmd == model && -z $sub ]]; then
        mapfile -t out < <(compgen -W 'push ls' -- "$cur")
    elif [[ $cmd == cert && -z $sub ]]; then
        mapfile -t out < <(compgen -W 'init issue show' -- "$cur")
    elif [[ $cmd == cert || $cmd == audit ]]; then
        # dim cert init|issue DIR, dim cert show FILE, dim audit FILE
        mapfile -t out < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    elif [[ ($cmd == status || $cmd == result || $cmd == cancel) && $args == 0 ]]; then
        # dim status|result|cancel JOB: the server's jobs.
        mapfile -t out < <(compgen -W "$(_dim_job_ids "$cmd")" -- "$cur")
    elif [[ $cmd == model && $sub == push ]]; then
        # dim model push FILE: an ONNX file.
        mapfile -t out < <(compgen -f -X '!*.onnx' -- "$cur"; compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
    fi

    COMPREPLY=()
    for w in "${out[@]}"; do
        [[ -n $w ]] && COMPREPLY+=("${w:strip}")
    done
}

complete -F _dim dim
