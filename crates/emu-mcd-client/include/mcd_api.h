/*
 * mcd_api.h: the MCD (Multi-Core Debug) API 1.1 as emu's client library implements it.
 *
 * Written for the emu project from the API's published facts: the function signatures,
 * structure layouts and numeric values a tool built against the standard MCD API 1.1
 * header expects, so such a tool can load libemu_mcd_client.so unchanged. On Linux every
 * enumeration type is a uint32_t and bool is the 8-bit C99 _Bool.
 *
 * The library connects to `emu --mcd-port [PORT]`. mcd_open_server_f's config string may
 * name McdHostName="HOST" (default "localhost"), McdServerPort=PORT (default 1235) and
 * McdTimeoutMs=MS (default 30000: how long one reply may take).
 */
#ifndef EMU_MCD_API_H
#define EMU_MCD_API_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCD_API_VER_MAJOR 1
#define MCD_API_VER_MINOR 1
#define MCD_API_VER_AUTHOR "emu"
#define MCD_API_VER_BUILD 0

#define MCD_HOSTNAME_LEN 64
#define MCD_REG_NAME_LEN 32
#define MCD_MEM_SPACE_NAME_LEN 32
#define MCD_MEM_BLOCK_NAME_LEN 32
#define MCD_MEM_BLOCK_NOPARENT 0
#define MCD_MEM_AUSIZE_NUM 8
#define MCD_INFO_STR_LEN 256
#define MCD_KEY_LEN 64
#define MCD_UNIQUE_NAME_LEN 64
#define MCD_MAX_TRIGS 32
#define MCD_API_IMP_VENDOR_LEN 32
#define MCD_CHL_NUM_MAX 32
#define MCD_CHL_LOWEST_PRIORITY 15
#define MCD_TX_NUM_MAX 64
#define MCD_GUARANTEED_MIN_PAYLOAD 16384
#define MCD_CORE_MODE_NAME_LEN 32

/* What the caller does next (every function but two returns one). */
typedef uint32_t mcd_return_et;
enum {
    MCD_RET_ACT_NONE = 0, MCD_RET_ACT_AGAIN = 1, MCD_RET_ACT_HANDLE_EVENT = 2,
    MCD_RET_ACT_HANDLE_ERROR = 3, MCD_RET_ACT_RESERVED_LO = 4,
    MCD_RET_ACT_RESERVED_HI = 0x8000, MCD_RET_ACT_CUSTOM_LO = 0x10000,
    MCD_RET_ACT_CUSTOM_HI = 0x40000000
};

/* Why a call failed (from mcd_qry_error_info_f). */
typedef uint32_t mcd_error_code_et;
enum {
    MCD_ERR_NONE = 0, MCD_ERR_FN_UNIMPLEMENTED = 0x100, MCD_ERR_USAGE = 0x101,
    MCD_ERR_PARAM = 0x102, MCD_ERR_CONNECTION = 0x200, MCD_ERR_TIMED_OUT = 0x201,
    MCD_ERR_GENERAL = 0xF00, MCD_ERR_RESULT_TOO_LONG = 0x1000,
    MCD_ERR_COULD_NOT_START_SERVER = 0x1100, MCD_ERR_SERVER_LOCKED = 0x1101,
    MCD_ERR_NO_MEM_SPACES = 0x1401, MCD_ERR_NO_MEM_BLOCKS = 0x1402,
    MCD_ERR_MEM_SPACE_ID = 0x1410, MCD_ERR_NO_REG_GROUPS = 0x1440,
    MCD_ERR_REG_GROUP_ID = 0x1441, MCD_ERR_REG_NOT_COMPOUND = 0x1442,
    MCD_ERR_OVERLAYS = 0x1500, MCD_ERR_DEVICE_ACCESS = 0x1900,
    MCD_ERR_DEVICE_LOCKED = 0x1901, MCD_ERR_TXLIST_READ = 0x2100,
    MCD_ERR_TXLIST_WRITE = 0x2101, MCD_ERR_TXLIST_TX = 0x2102,
    MCD_ERR_CHL_TYPE_NOT_SUPPORTED = 0x3100, MCD_ERR_CHL_TARGET_NOT_SUPPORTED = 0x3101,
    MCD_ERR_CHL_SETUP = 0x3102, MCD_ERR_CHL_MESSAGE_FAILED = 0x3140,
    MCD_ERR_TRIG_CREATE = 0x3200, MCD_ERR_TRIG_ACCESS = 0x3201,
    MCD_ERR_CUSTOM_LO = 0x10000000, MCD_ERR_CUSTOM_HI = 0x7FFFFFFF
};

typedef uint32_t mcd_error_event_et;
enum {
    MCD_ERR_EVT_NONE = 0, MCD_ERR_EVT_RESET = 1, MCD_ERR_EVT_PWRDN = 2,
    MCD_ERR_EVT_HWFAILURE = 4, MCD_ERR_EVT_RESERVED_LO = 8,
    MCD_ERR_EVT_RESERVED_HI = 0x8000, MCD_ERR_EVT_CUSTOM_LO = 0x10000,
    MCD_ERR_EVT_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_addr_space_type_et;
enum {
    MCD_NOTUSED_ID = 0, MCD_OVERLAY_ID = 1, MCD_MEMBANK_ID = 2, MCD_PROCESS_ID = 3,
    MCD_HW_THREAD_ID = 4
};

typedef uint32_t mcd_mem_type_et;
enum {
    MCD_MEM_SPACE_DEFAULT = 0, MCD_MEM_SPACE_IS_REGISTERS = 0x1,
    MCD_MEM_SPACE_IS_PROGRAM = 0x2, MCD_MEM_SPACE_IS_VIRTUAL = 0x4,
    MCD_MEM_SPACE_IS_CACHE = 0x8, MCD_MEM_SPACE_IS_PHYSICAL = 0x10,
    MCD_MEM_SPACE_IS_LOGICAL = 0x20, MCD_MEM_SPACE_RESERVED_LO = 0x40,
    MCD_MEM_SPACE_RESERVED_HI = 0x8000, MCD_MEM_SPACE_CUSTOM_LO = 0x10000,
    MCD_MEM_SPACE_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_endian_et;
enum { MCD_ENDIAN_DEFAULT = 0, MCD_ENDIAN_LITTLE = 1, MCD_ENDIAN_BIG = 2 };

typedef uint32_t mcd_reg_type_et;
enum { MCD_REG_TYPE_SIMPLE = 0, MCD_REG_TYPE_COMPOUND = 1, MCD_REG_TYPE_PARTIAL = 2 };

typedef uint32_t mcd_trig_type_et;
enum {
    MCD_TRIG_TYPE_UNDEFINED = 0, MCD_TRIG_TYPE_IP = 0x1, MCD_TRIG_TYPE_READ = 0x2,
    MCD_TRIG_TYPE_WRITE = 0x4, MCD_TRIG_TYPE_RW = 0x8, MCD_TRIG_TYPE_NOCYCLE = 0x10,
    MCD_TRIG_TYPE_TRIG_BUS = 0x20, MCD_TRIG_TYPE_COUNTER = 0x40,
    MCD_TRIG_TYPE_CUSTOM = 0x80, MCD_TRIG_TYPE_CUSTOM_LO = 0x10000,
    MCD_TRIG_TYPE_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_trig_opt_et;
enum {
    MCD_TRIG_OPT_DEFAULT = 0, MCD_TRIG_OPT_IMPL_HARDWARE = 0x1,
    MCD_TRIG_OPT_IMPL_SOFTWARE = 0x2, MCD_TRIG_OPT_OUT_OF_RANGE = 0x4,
    MCD_TRIG_OPT_DATA_IS_CONDITION = 0x8, MCD_TRIG_OPT_DATASIZE_IS_CONDITION = 0x10,
    MCD_TRIG_OPT_NOT_DATA = 0x20, MCD_TRIG_OPT_SIGNED_DATA = 0x40,
    MCD_TRIG_OPT_HW_THREAD_IS_CONDITION = 0x80, MCD_TRIG_OPT_NOT_HW_THREAD = 0x100,
    MCD_TRIG_OPT_SW_THREAD_IS_CONDITION = 0x200, MCD_TRIG_OPT_NOT_SW_THREAD = 0x400,
    MCD_TRIG_OPT_DATA_MUST_CHANGE = 0x800, MCD_TRIG_OPT_CORE_MODE_IS_CONDITION = 0x20000,
    MCD_TRIG_OPT_STATE_IS_CONDITION = 0x40000, MCD_TRIG_OPT_NOT = 0x80000,
    MCD_TRIG_OPT_CUSTOM_LO = 0x100000, MCD_TRIG_OPT_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_trig_action_et;
enum {
    MCD_TRIG_ACTION_DEFAULT = 0, MCD_TRIG_ACTION_DBG_DEBUG = 0x1,
    MCD_TRIG_ACTION_DBG_GLOBAL = 0x2, MCD_TRIG_ACTION_DBG_MONITOR = 0x4,
    MCD_TRIG_ACTION_TRIG_BUS_EVENT = 0x10, MCD_TRIG_ACTION_TRIG_BUS_SET = 0x20,
    MCD_TRIG_ACTION_TRIG_BUS_CLEAR = 0x40, MCD_TRIG_ACTION_TRACE_QUALIFY = 0x100,
    MCD_TRIG_ACTION_TRACE_QUALIFY_PROGRAM = 0x200,
    MCD_TRIG_ACTION_TRACE_QUALIFY_DATA = 0x400, MCD_TRIG_ACTION_TRACE_START = 0x800,
    MCD_TRIG_ACTION_TRACE_STOP = 0x1000, MCD_TRIG_ACTION_TRACE_TRIGGER = 0x2000,
    MCD_TRIG_ACTION_ANA_START_PERFM = 0x10000, MCD_TRIG_ACTION_ANA_STOP_PERFM = 0x20000,
    MCD_TRIG_ACTION_STATE_CHANGE = 0x40000, MCD_TRIG_ACTION_COUNT_QUALIFY = 0x80000,
    MCD_TRIG_ACTION_COUNT_START = 0x100000, MCD_TRIG_ACTION_COUNT_STOP = 0x200000,
    MCD_TRIG_ACTION_COUNT_RESTART = 0x400000, MCD_TRIG_ACTION_CUSTOM_LO = 0x1000000,
    MCD_TRIG_ACTION_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_tx_access_type_et;
enum { MCD_TX_AT_R = 1, MCD_TX_AT_W = 2, MCD_TX_AT_RW = 3, MCD_TX_AT_WR = 4 };

typedef uint32_t mcd_tx_access_opt_et;
enum {
    MCD_TX_OPT_DEFAULT = 0, MCD_TX_OPT_SIDE_EFFECTS = 0x1,
    MCD_TX_OPT_NO_SIDE_EFFECTS = 0x2, MCD_TX_OPT_BURST_ACCESSES = 0x4,
    MCD_TX_OPT_NO_BURST_ACCESSES = 0x8, MCD_TX_OPT_ALTERNATE_PATH = 0x10,
    MCD_TX_OPT_PRIORITY_ACCESS = 0x20, MCD_TX_OPT_DCACHE_WRITE_THRU = 0x40,
    MCD_TX_OPT_CACHE_BYPASS = 0x80, MCD_TX_OPT_NOINCREMENT = 0x100,
    MCD_TX_OPT_ATOMIC_WITH_NEXT = 0x200, MCD_TX_OPT_RESERVED_LO = 0x400,
    MCD_TX_OPT_RESERVED_HI = 0x8000, MCD_TX_OPT_CUSTOM_LO = 0x10000,
    MCD_TX_OPT_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_core_step_type_et;
enum {
    MCD_CORE_STEP_TYPE_CYCLES = 1, MCD_CORE_STEP_TYPE_INSTR = 2,
    MCD_CORE_STEP_TYPE_RESERVED_LO = 4, MCD_CORE_STEP_TYPE_RESERVED_HI = 0xFF,
    MCD_CORE_STEP_TYPE_CUSTOM_LO = 0x100, MCD_CORE_STEP_TYPE_CUSTOM_HI = 0xF00,
    MCD_CORE_STEP_TYPE_MAX_TYPES = 0x7FFFFFFF
};

typedef uint32_t mcd_core_state_et;
enum {
    MCD_CORE_STATE_UNKNOWN = 0, MCD_CORE_STATE_RUNNING = 1, MCD_CORE_STATE_HALTED = 2,
    MCD_CORE_STATE_DEBUG = 3, MCD_CORE_STATE_CUSTOM_LO = 0x100,
    MCD_CORE_STATE_CUSTOM_HI = 0x800, MCD_CORE_STATE_MAX_STATES = 0x7FFFFFFF
};

typedef uint32_t mcd_core_event_et;
enum {
    MCD_CORE_EVENT_NONE = 0, MCD_CORE_EVENT_MEMORY_CHANGE = 0x1,
    MCD_CORE_EVENT_REGISTER_CHANGE = 0x2, MCD_CORE_EVENT_TRACE_CHANGE = 0x4,
    MCD_CORE_EVENT_TRIGGER_CHANGE = 0x8, MCD_CORE_EVENT_STOPPED = 0x10,
    MCD_CORE_EVENT_CHL_PENDING = 0x20, MCD_CORE_EVENT_CUSTOM_LO = 0x10000,
    MCD_CORE_EVENT_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_chl_type_et;
enum {
    MCD_CHL_TYPE_COMMON = 1, MCD_CHL_TYPE_CONFIG = 2, MCD_CHL_TYPE_APPLI = 3,
    MCD_CHL_TYPE_CUSTOM_LO = 0x100, MCD_CHL_TYPE_CUSTOM_HI = 0xF00
};

typedef uint32_t mcd_chl_attributes_et;
enum {
    MCD_CHL_AT_RCV = 0x1, MCD_CHL_AT_SND = 0x2, MCD_CHL_AT_MEM_MAPPED = 0x40,
    MCD_CHL_AT_HAS_PRIO = 0x800
};

typedef uint32_t mcd_trace_type_et;
enum {
    MCD_TRACE_TYPE_UNKNOWN = 0, MCD_TRACE_TYPE_CORE = 1, MCD_TRACE_TYPE_BUS = 2,
    MCD_TRACE_TYPE_EVENT = 4, MCD_TRACE_TYPE_STAT = 8, MCD_TRACE_TYPE_CUSTOM_LO = 0x100,
    MCD_TRACE_TYPE_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_trace_format_et;
enum {
    MCD_TRACE_FORMAT_UNKNOWN = 0, MCD_TRACE_FORMAT_CORE_FETCH = 1,
    MCD_TRACE_FORMAT_CORE_EXECUTE = 2, MCD_TRACE_FORMAT_CORE_FLOW_ICOUNT = 3,
    MCD_TRACE_FORMAT_CORE_FLOW_BCOUNT = 4, MCD_TRACE_FORMAT_CORE_FLOW_IPREDICATE = 5,
    MCD_TRACE_FORMAT_EVENT = 0x10, MCD_TRACE_FORMAT_STAT = 0x20,
    MCD_TRACE_FORMAT_CUSTOM_LO = 0x100, MCD_TRACE_FORMAT_CUSTOM_HI = 0x7FFFFFFF
};

typedef uint32_t mcd_trace_mode_et;
enum {
    MCD_TRACE_MODE_NOCHANGE = 0, MCD_TRACE_MODE_FIFO = 1, MCD_TRACE_MODE_STACK = 2,
    MCD_TRACE_MODE_LEACH = 4, MCD_TRACE_MODE_PIPE = 8, MCD_TRACE_MODE_CUSTOM_LO = 0x100,
    MCD_TRACE_MODE_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_trace_state_et;
enum {
    MCD_TRACE_STATE_NOCHANGE = 0, MCD_TRACE_STATE_DISABLE = 1, MCD_TRACE_STATE_OFF = 2,
    MCD_TRACE_STATE_ARM = 3, MCD_TRACE_STATE_TRIGGER = 4, MCD_TRACE_STATE_STOP = 5,
    MCD_TRACE_STATE_INIT = 0x10, MCD_TRACE_STATE_CUSTOM_LO = 0x100,
    MCD_TRACE_STATE_CUSTOM_HI = 0x7FFFFFFF
};

typedef uint32_t mcd_trace_marker_et;
enum {
    MCD_TRACE_MARKER_NONE = 0, MCD_TRACE_MARKER_RUN = 1, MCD_TRACE_MARKER_DEBUG = 2,
    MCD_TRACE_MARKER_START = 4, MCD_TRACE_MARKER_STOP = 8, MCD_TRACE_MARKER_ERROR = 0x10,
    MCD_TRACE_MARKER_GAP = 0x20, MCD_TRACE_MARKER_CUSTOM_LO = 0x100,
    MCD_TRACE_MARKER_CUSTOM_HI = 0x40000000
};

typedef uint32_t mcd_trace_cycle_et;
enum {
    MCD_TRACE_CYCLE_UNKNOWN = 0, MCD_TRACE_CYCLE_NONE = 1, MCD_TRACE_CYCLE_EXECUTE = 2,
    MCD_TRACE_CYCLE_NOTEXECUTE = 3, MCD_TRACE_CYCLE_FETCH = 4, MCD_TRACE_CYCLE_READ = 5,
    MCD_TRACE_CYCLE_WRITE = 6, MCD_TRACE_CYCLE_OWNERSHIP = 7,
    MCD_TRACE_CYCLE_CUSTOM_LO = 0x100, MCD_TRACE_CYCLE_CUSTOM_HI = 0x7FFFFFFF
};

typedef struct mcd_api_version_st {
    uint16_t v_api_major;
    uint16_t v_api_minor;
    char author[MCD_API_IMP_VENDOR_LEN];
} mcd_api_version_st;

typedef struct mcd_impl_version_info_st {
    mcd_api_version_st v_api;
    uint16_t v_imp_major;
    uint16_t v_imp_minor;
    uint16_t v_imp_build;
    char vendor[MCD_API_IMP_VENDOR_LEN];
    char date[16];
} mcd_impl_version_info_st;

typedef struct mcd_error_info_st {
    mcd_return_et return_status;
    mcd_error_code_et error_code;
    mcd_error_event_et error_events;
    char error_str[MCD_INFO_STR_LEN];
} mcd_error_info_st;

typedef struct mcd_server_info_st {
    char server[MCD_UNIQUE_NAME_LEN];
    char system_instance[MCD_UNIQUE_NAME_LEN];
    char acc_hw[MCD_UNIQUE_NAME_LEN];
} mcd_server_info_st;

/* Allocated and freed by the library. */
typedef struct mcd_server_st {
    void *instance;
    const char *host;
    const char *config_string;
} mcd_server_st;

typedef struct mcd_core_con_info_st {
    char host[MCD_HOSTNAME_LEN];
    uint32_t server_port;
    char server_key[MCD_KEY_LEN];
    char system_key[MCD_KEY_LEN];
    char device_key[MCD_KEY_LEN];
    char system[MCD_UNIQUE_NAME_LEN];
    char system_instance[MCD_UNIQUE_NAME_LEN];
    char acc_hw[MCD_UNIQUE_NAME_LEN];
    uint32_t device_type;
    char device[MCD_UNIQUE_NAME_LEN];
    uint32_t device_id;
    char core[MCD_UNIQUE_NAME_LEN];
    uint32_t core_type;
    uint32_t core_id;
} mcd_core_con_info_st;

/* Allocated and freed by the library. */
typedef struct mcd_core_st {
    void *instance;
    const mcd_core_con_info_st *core_con_info;
} mcd_core_st;

typedef struct mcd_core_mode_info_st {
    uint8_t core_mode;
    char name[MCD_CORE_MODE_NAME_LEN];
} mcd_core_mode_info_st;

typedef struct mcd_addr_st {
    uint64_t address;
    uint32_t mem_space_id;
    uint32_t addr_space_id;
    mcd_addr_space_type_et addr_space_type;
} mcd_addr_st;

typedef struct mcd_memspace_st {
    uint32_t mem_space_id;
    char mem_space_name[MCD_MEM_SPACE_NAME_LEN];
    mcd_mem_type_et mem_type;
    uint32_t bits_per_mau;
    uint8_t invariance;
    mcd_endian_et endian;
    uint64_t min_addr;
    uint64_t max_addr;
    uint32_t num_mem_blocks;
    mcd_tx_access_opt_et supported_access_options;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
} mcd_memspace_st;

typedef struct mcd_memblock_st {
    uint32_t mem_block_id;
    char mem_block_name[MCD_MEM_BLOCK_NAME_LEN];
    bool has_children;
    uint32_t parent_id;
    uint64_t start_addr;
    uint64_t end_addr;
    mcd_endian_et endian;
    uint32_t supported_au_sizes[MCD_MEM_AUSIZE_NUM];
    mcd_tx_access_opt_et supported_access_options;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
} mcd_memblock_st;

typedef struct mcd_register_group_st {
    uint32_t reg_group_id;
    char reg_group_name[MCD_REG_NAME_LEN];
    uint32_t n_registers;
} mcd_register_group_st;

typedef struct mcd_register_info_st {
    mcd_addr_st addr;
    uint32_t reg_group_id;
    char regname[MCD_REG_NAME_LEN];
    uint32_t regsize;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
    bool has_side_effects_read;
    bool has_side_effects_write;
    mcd_reg_type_et reg_type;
    uint32_t hw_thread_id;
} mcd_register_info_st;

typedef struct mcd_trig_info_st {
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t trig_number;
    uint32_t state_number;
    uint32_t counter_number;
    bool sw_breakpoints;
} mcd_trig_info_st;

typedef struct mcd_ctrig_info_st {
    uint32_t ctrig_id;
    char info_str[MCD_INFO_STR_LEN];
} mcd_ctrig_info_st;

/* Every trigger structure starts with these members; struct_size tells them apart. */
#define EMU_MCD_TRIG_HEAD                                                              \
    uint32_t struct_size;                                                              \
    mcd_trig_type_et type;                                                             \
    mcd_trig_opt_et option;                                                            \
    mcd_trig_action_et action;                                                         \
    uint32_t action_param;                                                             \
    bool modified;                                                                     \
    uint32_t state_mask

typedef struct mcd_trig_complex_core_st {
    EMU_MCD_TRIG_HEAD;
    mcd_addr_st addr_start;
    uint64_t addr_range;
    uint64_t data_start;
    uint64_t data_range;
    uint64_t data_mask;
    uint32_t data_size;
    uint32_t hw_thread_id;
    uint64_t sw_thread_id;
    uint32_t core_mode_mask;
} mcd_trig_complex_core_st;

typedef struct mcd_trig_simple_core_st {
    EMU_MCD_TRIG_HEAD;
    mcd_addr_st addr_start;
    uint64_t addr_range;
} mcd_trig_simple_core_st;

typedef struct mcd_trig_trig_bus_st {
    EMU_MCD_TRIG_HEAD;
    uint32_t trig_bus_value;
    uint32_t trig_bus_mask;
} mcd_trig_trig_bus_st;

typedef struct mcd_trig_counter_st {
    EMU_MCD_TRIG_HEAD;
    uint64_t count_value;
    uint64_t reload_value;
} mcd_trig_counter_st;

typedef struct mcd_trig_custom_st {
    EMU_MCD_TRIG_HEAD;
    uint32_t ctrig_id;
    uint32_t ctrig_args[4];
} mcd_trig_custom_st;

typedef struct mcd_trig_state_st {
    bool active;
    bool captured;
    bool captured_valid;
    uint64_t count_value;
    bool count_valid;
} mcd_trig_state_st;

typedef struct mcd_trig_set_state_st {
    bool active;
    uint32_t state;
    bool state_valid;
    uint32_t trig_bus;
    bool trig_bus_valid;
    bool trace;
    bool trace_valid;
    bool analysis;
    bool analysis_valid;
} mcd_trig_set_state_st;

typedef struct mcd_tx_st {
    mcd_addr_st addr;
    mcd_tx_access_type_et access_type;
    mcd_tx_access_opt_et options;
    uint8_t access_width;
    uint8_t core_mode;
    uint8_t *data;
    uint32_t num_bytes;
    uint32_t num_bytes_ok;
} mcd_tx_st;

typedef struct mcd_txlist_st {
    mcd_tx_st *tx;
    uint32_t num_tx;
    uint32_t num_tx_ok;
} mcd_txlist_st;

typedef struct mcd_core_state_st {
    mcd_core_state_et state;
    mcd_core_event_et event;
    uint32_t hw_thread_id;
    uint32_t trig_id;
    char stop_str[MCD_INFO_STR_LEN];
    char info_str[MCD_INFO_STR_LEN];
} mcd_core_state_st;

typedef struct mcd_rst_info_st {
    uint32_t class_vector;
    char info_str[MCD_INFO_STR_LEN];
} mcd_rst_info_st;

typedef struct mcd_chl_st {
    uint32_t chl_id;
    mcd_chl_type_et type;
    mcd_chl_attributes_et attributes;
    uint32_t max_msg_len;
    mcd_addr_st msg_buffer_addr;
    uint8_t prio;
} mcd_chl_st;

typedef struct mcd_trace_info_st {
    uint32_t trace_id;
    char trace_name[MCD_INFO_STR_LEN];
    mcd_trace_type_et trace_type;
    mcd_trace_format_et trace_format;
    mcd_trace_mode_et trace_modes;
    bool trace_no_timestamps;
    bool trace_shared;
    bool trace_size_is_bytes;
} mcd_trace_info_st;

typedef struct mcd_trace_state_st {
    mcd_trace_state_et state;
    mcd_trace_mode_et mode;
    bool autoarm;
    bool wraparound;
    uint64_t frames;
    uint64_t count;
    uint64_t size;
    uint64_t trigger_delay;
    uint8_t timestamp_accuracy;
    bool timestamp_is_time;
    uint32_t options;
    bool modified;
    char info_str[MCD_INFO_STR_LEN];
} mcd_trace_state_st;

typedef struct mcd_trace_data_core_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    mcd_trace_cycle_et cycle;
    mcd_addr_st addr;
    uint64_t data;
    uint8_t data_width;
    uint8_t data_mask;
    uint16_t source;
    uint32_t aux_info;
} mcd_trace_data_core_st;

typedef struct mcd_trace_data_event_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    uint32_t data[8];
} mcd_trace_data_event_st;

typedef struct mcd_trace_data_stat_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    uint64_t count[8];
} mcd_trace_data_stat_st;

/* Initialisation. */
mcd_return_et mcd_initialize_f(const mcd_api_version_st *version_req,
                               mcd_impl_version_info_st *impl_info);
void mcd_exit_f(void);

/* Servers. */
mcd_return_et mcd_qry_servers_f(const char *host, bool running, uint32_t start_index,
                                uint32_t *num_servers, mcd_server_info_st *server_info);
mcd_return_et mcd_open_server_f(const char *system_key, const char *config_string,
                                mcd_server_st **server);
mcd_return_et mcd_close_server_f(const mcd_server_st *server);
mcd_return_et mcd_set_server_config_f(const mcd_server_st *server,
                                      const char *config_string);
mcd_return_et mcd_qry_server_config_f(const mcd_server_st *server, uint32_t *max_len,
                                      char *config_string);

/* The system, its devices and cores. */
mcd_return_et mcd_qry_systems_f(uint32_t start_index, uint32_t *num_systems,
                                mcd_core_con_info_st *system_con_info);
mcd_return_et mcd_qry_devices_f(const mcd_core_con_info_st *system_con_info,
                                uint32_t start_index, uint32_t *num_devices,
                                mcd_core_con_info_st *device_con_info);
mcd_return_et mcd_qry_cores_f(const mcd_core_con_info_st *connection_info,
                              uint32_t start_index, uint32_t *num_cores,
                              mcd_core_con_info_st *core_con_info);
mcd_return_et mcd_qry_core_modes_f(const mcd_core_st *core, uint32_t start_index,
                                   uint32_t *num_modes,
                                   mcd_core_mode_info_st *core_mode_info);

/* Core connections. */
mcd_return_et mcd_open_core_f(const mcd_core_con_info_st *core_con_info,
                              mcd_core_st **core);
mcd_return_et mcd_close_core_f(const mcd_core_st *core);
void mcd_qry_error_info_f(const mcd_core_st *core, mcd_error_info_st *error_info);
mcd_return_et mcd_qry_device_description_f(const mcd_core_st *core, char *url,
                                           uint32_t *url_length);
mcd_return_et mcd_qry_max_payload_size_f(const mcd_core_st *core,
                                         uint32_t *max_payload);
mcd_return_et mcd_qry_input_handle_f(const mcd_core_st *core, uint32_t *input_handle);

/* Memory and registers. */
mcd_return_et mcd_qry_mem_spaces_f(const mcd_core_st *core, uint32_t start_index,
                                   uint32_t *num_mem_spaces, mcd_memspace_st *mem_spaces);
mcd_return_et mcd_qry_mem_blocks_f(const mcd_core_st *core, uint32_t mem_space_id,
                                   uint32_t start_index, uint32_t *num_mem_blocks,
                                   mcd_memblock_st *mem_blocks);
mcd_return_et mcd_qry_active_overlays_f(const mcd_core_st *core, uint32_t start_index,
                                        uint32_t *num_active_overlays,
                                        uint32_t *active_overlays);
mcd_return_et mcd_qry_reg_groups_f(const mcd_core_st *core, uint32_t start_index,
                                   uint32_t *num_reg_groups,
                                   mcd_register_group_st *reg_groups);
mcd_return_et mcd_qry_reg_map_f(const mcd_core_st *core, uint32_t reg_group_id,
                                uint32_t start_index, uint32_t *num_regs,
                                mcd_register_info_st *reg_info);
mcd_return_et mcd_qry_reg_compound_f(const mcd_core_st *core, uint32_t compound_reg_id,
                                     uint32_t start_index, uint32_t *num_reg_ids,
                                     uint32_t *reg_id_array);

/* Triggers. */
mcd_return_et mcd_qry_trig_info_f(const mcd_core_st *core, mcd_trig_info_st *trig_info);
mcd_return_et mcd_qry_ctrigs_f(const mcd_core_st *core, uint32_t start_index,
                               uint32_t *num_ctrigs, mcd_ctrig_info_st *ctrig_info);
mcd_return_et mcd_create_trig_f(const mcd_core_st *core, void *trig, uint32_t *trig_id);
mcd_return_et mcd_qry_trig_f(const mcd_core_st *core, uint32_t trig_id,
                             uint32_t max_trig_size, void *trig);
mcd_return_et mcd_remove_trig_f(const mcd_core_st *core, uint32_t trig_id);
mcd_return_et mcd_qry_trig_state_f(const mcd_core_st *core, uint32_t trig_id,
                                   mcd_trig_state_st *trig_state);
mcd_return_et mcd_activate_trig_set_f(const mcd_core_st *core);
mcd_return_et mcd_remove_trig_set_f(const mcd_core_st *core);
mcd_return_et mcd_qry_trig_set_f(const mcd_core_st *core, uint32_t start_index,
                                 uint32_t *num_trigs, uint32_t *trig_ids);
mcd_return_et mcd_qry_trig_set_state_f(const mcd_core_st *core,
                                       mcd_trig_set_state_st *trig_state);

/* Execution. */
mcd_return_et mcd_execute_txlist_f(const mcd_core_st *core, mcd_txlist_st *txlist);
mcd_return_et mcd_run_f(const mcd_core_st *core, bool global);
mcd_return_et mcd_stop_f(const mcd_core_st *core, bool global);
mcd_return_et mcd_run_until_f(const mcd_core_st *core, bool global, bool absolute_time,
                              uint64_t run_until_time);
mcd_return_et mcd_qry_current_time_f(const mcd_core_st *core, uint64_t *current_time);
mcd_return_et mcd_step_f(const mcd_core_st *core, bool global,
                         mcd_core_step_type_et step_type, uint32_t n_steps);
mcd_return_et mcd_set_global_f(const mcd_core_st *core, bool enable);
mcd_return_et mcd_qry_state_f(const mcd_core_st *core, mcd_core_state_st *state);
mcd_return_et mcd_execute_command_f(const mcd_core_st *core, const char *command_string,
                                    uint32_t result_string_size, char *result_string);

/* Reset. */
mcd_return_et mcd_qry_rst_classes_f(const mcd_core_st *core, uint32_t *rst_class_vector);
mcd_return_et mcd_qry_rst_class_info_f(const mcd_core_st *core, uint8_t rst_class,
                                       mcd_rst_info_st *rst_info);
mcd_return_et mcd_rst_f(const mcd_core_st *core, uint32_t rst_class_vector,
                        bool rst_and_halt);

/* Communication channels (emu has none). */
mcd_return_et mcd_chl_open_f(const mcd_core_st *core, mcd_chl_st *channel);
mcd_return_et mcd_send_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
                             uint32_t msg_len, const uint8_t *msg);
mcd_return_et mcd_receive_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
                                uint32_t timeout, uint32_t *msg_len, uint8_t *msg);
mcd_return_et mcd_chl_reset_f(const mcd_core_st *core, const mcd_chl_st *channel);
mcd_return_et mcd_chl_close_f(const mcd_core_st *core, const mcd_chl_st *channel);

/* Traces (emu has none). */
mcd_return_et mcd_qry_traces_f(const mcd_core_st *core, uint32_t start_index,
                               uint32_t *num_traces, mcd_trace_info_st *trace_info);
mcd_return_et mcd_qry_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                                    mcd_trace_state_st *state);
mcd_return_et mcd_set_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                                    mcd_trace_state_st *state);
mcd_return_et mcd_read_trace_f(const mcd_core_st *core, uint32_t trace_id,
                               uint64_t start_index, uint32_t *num_frames,
                               uint32_t trace_data_size, void *trace_data);

#ifdef __cplusplus
}
#endif

#endif /* EMU_MCD_API_H */
