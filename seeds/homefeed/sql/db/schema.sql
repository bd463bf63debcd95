CREATE TABLE `users` (
  `id` bigint(20) NOT NULL,
  `username` varchar(64) NOT NULL,
  `email` varchar(128) NOT NULL,
  `display_name` varchar(100) DEFAULT NULL,
  `locale` varchar(8) NOT NULL DEFAULT 'en-US',
  `follower_count` int(11) NOT NULL DEFAULT 0,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `boards` (
  `id` int(11) NOT NULL,
  `owner_id` bigint(20) NOT NULL,
  `name` varchar(100) NOT NULL,
  `description` text DEFAULT NULL,
  `is_secret` tinyint(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `boards_owner` (`owner_id`),
  CONSTRAINT `boards_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `follows` (
  `follower_id` bigint(20) NOT NULL,
  `followee_id` bigint(20) NOT NULL,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`follower_id`,`followee_id`),
  KEY `follows_followee` (`followee_id`),
  CONSTRAINT `follows_followee` FOREIGN KEY (`followee_id`) REFERENCES `users` (`id`),
  CONSTRAINT `follows_follower` FOREIGN KEY (`follower_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `pins` (
  `id` bigint(20) NOT NULL,
  `owner_id` bigint(20) NOT NULL,
  `board_id` int(11) NOT NULL,
  `title` varchar(200) NOT NULL DEFAULT '',
  `description` text DEFAULT NULL,
  `media_type` enum('IMAGE','VIDEO','CAROUSEL','IDEA') NOT NULL DEFAULT 'IMAGE',
  `image_url` varchar(255) NOT NULL,
  `width` smallint(6) NOT NULL,
  `height` smallint(6) NOT NULL,
  `save_count` int(11) NOT NULL DEFAULT 0,
  `quality_tier` tinyint(4) NOT NULL DEFAULT 3,
  `is_promoted` tinyint(1) NOT NULL DEFAULT 0,
  `price` decimal(8,2) DEFAULT NULL,
  `embedding` varbinary(16) DEFAULT NULL,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`),
  KEY `pins_owner` (`owner_id`),
  KEY `pins_board` (`board_id`),
  CONSTRAINT `pins_board` FOREIGN KEY (`board_id`) REFERENCES `boards` (`id`),
  CONSTRAINT `pins_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `pin_tags` (
  `pin_id` bigint(20) NOT NULL,
  `tag` varchar(32) NOT NULL,
  PRIMARY KEY (`pin_id`,`tag`),
  CONSTRAINT `pin_tags_pin` FOREIGN KEY (`pin_id`) REFERENCES `pins` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
