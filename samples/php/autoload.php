<?php
/* autoload.php: the PSR-4 autoloader of composer.json ("Kisekae\\" => src/) for
 * sites that do not use Composer: require this file, then use Kisekae\Client.
 * With Composer, its own vendor/autoload.php does the same. */

spl_autoload_register(static function (string $class): void {
    $prefix = 'Kisekae\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0)
        return;
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file))
        require $file;
});
